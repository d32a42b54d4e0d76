"""The whole pipeline through the real Storage API ends as it ends through the local backend.

Runs only against a real Storage API server (see ../shared/storage-server/): CONSOLIDATION_STORAGE_URL
(the project URL), CONSOLIDATION_SERVICE_KEY, and the stack it serves — DATABASE_URL and
CONSOLIDATION_STORAGE_ROOT as `consolidate stack env` prints them for that stack. A fake server
would prove nothing about the real API. The test seeds that database anew (`stack seed --reset`
with the small seed, every anomaly class), runs backup, merge and storage with `--apply` through
the server, and the same on the same seed in a database of its own through the local backend;
then the chat rows must be identical, and the objects identical in bucket, name, size, sha256,
mimetype, cacheControl, owner and user metadata; and every reference the chat rows hold to the
project downloads through the API with the bytes the local side holds.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import psycopg
import pytest
from conftest import consolidate
from consolidation.storage_migration.backends.local import LocalBackend
from consolidation.storage_migration.backends.supabase_http import SupabaseStorageBackend
from consolidation.storage_migration.references import ObjectReference, parse_reference

from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalDatabase
from consolidation.seed import SeedOptions, seed_legacy

NEEDED = (
    "CONSOLIDATION_STORAGE_URL", "CONSOLIDATION_SERVICE_KEY", "DATABASE_URL", "CONSOLIDATION_STORAGE_ROOT"
)
pytestmark = pytest.mark.skipif(
    not all(os.environ.get(name) for name in NEEDED),
    reason="set " + ", ".join(NEEDED) + " to run the pipeline through a real Storage API server",
)
PHASES = ("backup", "merge", "storage")

OBJECTS = """
SELECT bucket_id, name, (metadata->>'size')::bigint, metadata->>'mimetype', metadata->>'cacheControl',
       owner, owner_id, coalesce(user_metadata, '{}'::jsonb)::text
FROM storage.objects ORDER BY bucket_id, name
"""
# As text: one seeded metadata value is JSON 1,000 levels deep, deeper than Python parses.
CHAT_ROWS = """
SELECT 'session', (to_jsonb(s) - 'created_at' - 'updated_at')::text FROM public.chat_sessions AS s
UNION ALL
SELECT 'message', (to_jsonb(m) - 'updated_at')::text FROM public.chat_messages AS m
ORDER BY 1, 2
"""
REFERENCES = "SELECT id, file_url FROM public.chat_messages WHERE file_url IS NOT NULL ORDER BY id"


def _run(database: LocalDatabase | None, backend: str, out: Path) -> list[str]:
    """Every phase with --apply, the storage plan's move map written first; the map's moves."""
    # Only names in the signature: a failure's traceback shows arguments, and the environment
    # holds the database password and the service key.
    chosen = {"CONSOLIDATION_STORAGE_BACKEND": backend}
    for phase in PHASES:
        if phase == "storage":
            done = consolidate(database, "storage", "plan", "--out", str(out), env=chosen, timeout=900)
            assert done.returncode == 0, f"storage plan --out: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        done = consolidate(database, phase, "--apply", env=chosen, timeout=900)
        assert done.returncode == 0, f"{phase} --apply: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    with (out / "moves.csv").open(newline="", encoding="utf-8") as moves:
        return sorted(row[:4] for row in list(csv.reader(moves))[1:])


def _state(url: str, root: Path) -> tuple[list, list, dict]:
    backend = LocalBackend(url, root)
    try:
        with psycopg.connect(url) as conn:
            objects = conn.execute(OBJECTS).fetchall()
            rows = conn.execute(CHAT_ROWS).fetchall()
        digests = {
            (bucket, name): hashlib.sha256(backend.read(bucket, name)).hexdigest()
            for bucket, name, *_ in objects
        }
    finally:
        backend.close()
    return objects, rows, digests


def test_the_pipeline_through_the_storage_api_ends_as_through_the_local_backend(
    legacy_db: LocalDatabase, tmp_path: Path,
) -> None:
    url, root = os.environ["DATABASE_URL"], Path(os.environ["CONSOLIDATION_STORAGE_ROOT"])
    seed_legacy(url, root, SeedOptions.small(), reset=True)
    http_moves = _run(None, "supabase", tmp_path / "http")  # the environment's database, through the server
    local_moves = _run(legacy_db, "local", tmp_path / "local")
    assert http_moves == local_moves and http_moves  # the same moves planned (keys and destinations)

    http_objects, http_rows, http_digests = _state(url, root)
    local_objects, local_rows, local_digests = _state(legacy_db.url, legacy_db.store_root)
    assert http_rows == local_rows
    assert http_objects == local_objects
    assert http_digests == local_digests
    # What the app's users will see: every reference to the project downloads through the API.
    api = SupabaseStorageBackend(
        os.environ["CONSOLIDATION_STORAGE_URL"], os.environ["CONSOLIDATION_SERVICE_KEY"]
    )
    storage = Config().storage
    buckets = (*storage.legacy_buckets, storage.target_bucket)
    checked = 0
    try:
        with psycopg.connect(url) as conn:
            for _, file_url in conn.execute(REFERENCES):
                reference = parse_reference(file_url, project_url=storage.project_url, known_buckets=buckets)
                key = (reference.bucket, reference.path) if isinstance(reference, ObjectReference) else None
                if key not in http_digests:
                    continue
                assert hashlib.sha256(api.read(*key)).hexdigest() == http_digests[key], file_url
                checked += 1
    finally:
        api.close()
    assert checked > 0
