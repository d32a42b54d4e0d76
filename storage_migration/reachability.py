"""Whether the chat's file references work for their readers: each names an object that exists
at its bucket and path, in a form that can fetch from that bucket (no public URL into a private one)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import psycopg
from consolidation.storage_migration.inventory import REFERENCE_QUERIES, scan_references
from consolidation.storage_migration.references import (
    ObjectReference,
    parse_reference,
    shown,
    works_for_private_bucket,
)

from consolidation.core import sqlfiles
from consolidation.core.config import Config

CHAT_REFERENCES = REFERENCE_QUERIES[:1]


def bucket_visibility(conn: psycopg.Connection) -> dict[str, bool]:
    """Bucket id -> whether it is public, from storage.buckets."""
    rows = conn.execute(sqlfiles.load("storage/066_bucket_visibility.sql"))
    return {bucket: bool(public) for bucket, public in rows}


def form_problem(reference: ObjectReference, bucket: str, visibility: dict[str, bool]) -> str | None:
    """Why REFERENCE cannot fetch from BUCKET (a bucket not known to be public counts as private)."""
    if visibility.get(bucket, False) or works_for_private_bucket(reference):
        return None
    return f"a public URL into the private bucket {bucket}: the Storage API answers it 400 for everyone"


def chat_reference_findings(conn: psycopg.Connection, config: Config) -> Iterator[tuple[str, str, str]]:
    """(table, row, discrepancy) for every chat message reference into the target bucket that
    names no object there, or is in a form that cannot fetch from it. References into the legacy
    buckets are the storage phase's to move (its verify reports those it has not)."""
    storage = config.storage
    buckets = (*storage.legacy_buckets, storage.target_bucket)
    visibility = bucket_visibility(conn)
    named: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for site in scan_references(conn, config, CHAT_REFERENCES):
        parsed = parse_reference(site.raw, project_url=storage.project_url, known_buckets=buckets)
        if not isinstance(parsed, ObjectReference) or parsed.bucket != storage.target_bucket:
            continue
        where = (str(site.row_id), site.column_name + "".join(f"[{part}]" for part in site.json_path))
        if problem := form_problem(parsed, parsed.bucket, visibility):
            yield site.table_name, where[0], shown(f"{where[1]}: {problem}")
        named[parsed.path].append(where)
    if not named:
        return
    missing = conn.execute(
        sqlfiles.load("storage/067_missing_objects.sql"),
        {"names": list(named), "bucket": storage.target_bucket},
    ).fetchall()
    for (name,) in missing:
        for row, column in named[name]:
            problem = f"{column}: names {storage.target_bucket}/{name}, which does not exist"
            yield "chat_messages", row, shown(problem)
