"""Storage phase: plan / apply / verify / rollback of the file move, recorded in the journal."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from consolidation.core import journal
from consolidation.core.config import BACKEND_ENV, KEY_ENV, ROOT_ENV, URL_ENV, Config
from consolidation.core.errors import ConfigError, FindingsError, PhaseOrderError
from consolidation.phases import storage_transfer as transfer
from consolidation.phases.storage_transfer import (
    PHASE,
    CrashPoint,
    StoragePlan,
    StorageReport,
    StorageResult,
    build_plan,
    listed_inventory,
    statements,
)
from storage_migration.backends.base import StorageBackend
from storage_migration.inventory import ProgressCallback

__all__ = ["PHASE", "apply", "open_backend", "plan", "rollback", "statements", "storage_phase", "verify"]


@contextmanager
def open_backend(database_url: str, environment: dict[str, str] | None = None) -> Iterator[StorageBackend]:
    """The backend the environment chooses: `local` (the stack's store) or `supabase` (Storage API)."""
    env = os.environ if environment is None else environment
    kind = env.get(BACKEND_ENV, "local")
    if kind == "local":
        root = env.get(ROOT_ENV)
        if not root:
            raise ConfigError(
                f"{BACKEND_ENV}=local needs {ROOT_ENV}, the local store's folder",
                hint='eval "$(consolidate stack env)" sets both',
            )
        from storage_migration.backends.local import LocalBackend

        backend = LocalBackend(database_url, Path(root))
    elif kind == "supabase":
        url, key = env.get(URL_ENV), env.get(KEY_ENV)
        if not url or not key:
            raise ConfigError(
                f"{BACKEND_ENV}=supabase needs {URL_ENV} (the project URL) and {KEY_ENV} (the service key)",
                hint="set both; the key is read from the environment only and never printed",
            )
        from storage_migration.backends.supabase_http import SupabaseStorageBackend

        backend = SupabaseStorageBackend(url, key)
    else:
        raise ConfigError(f"{BACKEND_ENV}={kind!r} is not a storage backend", hint="use local or supabase")
    try:
        yield backend
    finally:
        backend.close()


def plan(conn: psycopg.Connection, config: Config, backend: StorageBackend) -> StoragePlan:
    """What apply would do: copies, rewrites, missing and foreign references. Writes nothing."""
    return build_plan(conn, config, backend, listed_inventory(conn, config, backend))


def _require_merge(conn: psycopg.Connection, config: Config) -> None:
    if journal.latest(conn, config, "merge") is None:
        raise PhaseOrderError(
            "storage needs a completed merge (files go to the sessions merge creates)",
            hint="run `consolidate merge --apply` first (or pass --force-order)",
        )


def apply(
    conn: psycopg.Connection,
    config: Config,
    run: journal.Run,
    backend: StorageBackend,
    *,
    force_order: bool = False,
    on_progress: ProgressCallback | None = None,
    on_total: Callable[[int, int], None] | None = None,
) -> StorageResult:
    """Run (or resume) the move; recorded as phase `storage` with its counts."""
    if not force_order:
        _require_merge(conn, config)
    steps = statements(config)
    with journal.recorded_phase(conn, run, PHASE, "apply", [step.sql for step in steps]) as record:
        result = transfer.apply(
            conn, config, backend, on_progress=on_progress, on_total=on_total,
            crash=CrashPoint.from_environment(),
        )
        record.counts = result.counts
        if result.failed:
            record.details["failed"] = [f"{t.source_bucket}/{t.source_name} -> {t.dest_name}: {t.detail}"
                                        for t in result.failed[:100]]
        if result.refused:
            record.details["refused"] = [f"{f.where}: {f.detail}" for f in result.refused[:100]]
    return result


def verify(conn: psycopg.Connection, config: Config, backend: StorageBackend) -> StorageReport:
    return transfer.verify(conn, config, backend)


def require_clean(report: StorageReport) -> None:
    if not report.clean:
        raise FindingsError(
            f"storage verification found {len(report.findings)} discrepancies",
            hint="see the list above; re-run `consolidate storage apply` to resume, then verify again",
        )


def rollback(
    conn: psycopg.Connection, config: Config, run: journal.Run, backend: StorageBackend
) -> dict[str, int]:
    """Objects back to the legacy buckets, references restored from the journal, copies removed."""
    steps = statements(config)
    with journal.recorded_phase(conn, run, PHASE, "rollback", [step.sql for step in steps]) as record:
        counts = transfer.rollback(conn, config, backend, crash=CrashPoint.from_environment())
        record.counts = counts
    return counts


def storage_phase(
    conn: psycopg.Connection, config: Config, run: journal.Run, database_url: str,
    environment: dict[str, str] | None = None,
) -> dict[str, object]:
    """The demo's step: apply then verify; the summary rows the demo prints."""
    with open_backend(database_url, environment) as backend:
        result = apply(conn, config, run, backend)
        report = verify(conn, config, backend)
    return {**result.counts, "verified references": report.checked, "clean": report.clean,
            "storage findings": len(report.findings)}
