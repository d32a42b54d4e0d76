"""Storage phase: move chat files into chat-files/<session>/<sender>/<file>, rewriting every reference.

The mechanics (inventory, copy + verify, rewrite, delete, rollback) are in storage_transfer; this
module is the phase's contract: the plan's steps are the object operations and rewrites, one
per object and reference, and apply runs exactly those.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import ClassVar

from consolidation.core import journal
from consolidation.core.config import BACKEND_ENV, KEY_ENV, ROOT_ENV, URL_ENV
from consolidation.core.errors import ConfigError, FindingsError, PhaseOrderError
from consolidation.phases import storage_transfer as transfer
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step, command
from consolidation.phases.storage_move_map import move_map
from consolidation.storage_migration.backends.base import ObjectRefused, StorageBackend
from consolidation.storage_migration.inventory import sha256_of

PHASE = transfer.PHASE
CHECKS = ("copy_failed", "not_migrated", "unresolved")


@contextmanager
def open_backend(
    database_url: str, environment: Mapping[str, str] | None = None, *, concurrency: int = 8
) -> Iterator[StorageBackend]:
    """The backend the environment chooses: `local` (the stack's store) or `supabase` (Storage API),
    making up to CONCURRENCY transfers at once."""
    env = os.environ if environment is None else environment
    kind = env.get(BACKEND_ENV, "local")
    if kind == "local":
        root = env.get(ROOT_ENV)
        if not root:
            raise ConfigError(
                f"{BACKEND_ENV}=local needs {ROOT_ENV}, the local store's folder",
                hint='eval "$(consolidate stack env)" sets both',
            )
        from consolidation.storage_migration.backends.local import LocalBackend

        backend: StorageBackend = LocalBackend(database_url, Path(root), concurrency=concurrency)
    elif kind == "supabase":
        url, key = env.get(URL_ENV), env.get(KEY_ENV)
        if not url or not key:
            raise ConfigError(
                f"{BACKEND_ENV}=supabase needs {URL_ENV} (the project URL) and {KEY_ENV} (the service key)",
                hint="set both; the key is read from the environment only and never printed",
            )
        from consolidation.storage_migration.backends.supabase_http import SupabaseStorageBackend

        backend = SupabaseStorageBackend(url, key, concurrency=concurrency)
    else:
        raise ConfigError(f"{BACKEND_ENV}={kind!r} is not a storage backend", hint="use local or supabase")
    try:
        yield backend
    finally:
        backend.close()


def _backend(ctx: Context) -> AbstractContextManager[StorageBackend]:
    return open_backend(ctx.database_url, ctx.environment or None, concurrency=ctx.config.storage.concurrency)


def _shown(text: str, limit: int = 200) -> str:
    """TEXT for a step's one-line name: long references are cut in names only, never in the
    operation's text (what the plan's hash covers)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _where(table_name: str, row_id: object, column: str, json_path: tuple[str, ...] | list[str]) -> str:
    return f"{table_name} {row_id} {column}" + "".join(f"[{part}]" for part in json_path)


def _move_map_files(
    ctx: Context, built: transfer.StoragePlan, pending: list[transfer.Transfer]
) -> dict[str, bytes]:
    """The move map of BUILT as files; objects the inventory has not hashed are hashed now."""
    with _backend(ctx) as backend:

        def sha256(key: transfer.Key) -> str:
            # Empty where it cannot be read: gone, or a key the Storage API will not name (its
            # copy is proved by the server's content hash instead).
            if not backend.readable(key[1]):
                return ""
            try:
                return sha256_of(backend, *key)[1]
            except (FileNotFoundError, ObjectRefused):
                return ""

        return move_map(built, pending, sha256).files()


def plan_steps(
    built: transfer.StoragePlan, pending: list[transfer.Transfer], keep_sources: bool
) -> list[Step]:
    """The plan's steps: every copy (new, and earlier ones left unfinished), every rewrite, and
    every source deletion it leads to."""
    steps = [
        Step(
            PHASE,
            f"copy {t.source_bucket}/{_shown(t.source_name)}",
            operation=f"copy {t.source_bucket}/{t.source_name} -> {t.dest_bucket}/{t.dest_name}{resumed}",
        )
        for resumed, group in ((" (an earlier run's, unfinished)", pending), ("", built.new_transfers))
        for t in group
    ]
    steps += [
        Step(
            PHASE,
            f"rewrite {_where(r.table_name, r.row_id, r.column_name, r.json_path)}",
            operation=f"rewrite {_where(r.table_name, r.row_id, r.column_name, r.json_path)}: "
            f"{r.old_value} -> {r.new_value}",
        )
        for r in built.rewrites
    ]
    if not keep_sources:
        kept = set(built.outside_chat) | set(built.unwritable)
        sources = sorted({t.source for t in [*pending, *built.new_transfers]} - kept)
        steps += [
            Step(
                PHASE,
                f"delete {bucket}/{_shown(name)}",
                operation=f"delete {bucket}/{name} once every copy of it is verified and rewritten",
            )
            for bucket, name in sources
        ]
    return steps


class Storage:
    """Move every referenced file to chat-files/<session>/<sender>/ and rewrite its references."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ("merge",)
    tables: ClassVar[tuple[str, ...]] = ("messages", "voice_notes", "chat_sessions", "chat_messages")
    summary: ClassVar[str] = (
        "Copy, verify, rewrite every reference, then delete verified sources: files into chat-files."
    )
    options: ClassVar[tuple[Option, ...]] = ()

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        conn, config = ctx.conn, ctx.config
        if not journal.installed(conn, config):
            raise PhaseOrderError(
                "storage moves files into the sessions merge creates: its plan needs merge's result",
                hint=f"run {command('merge', '--apply')} first",
            )
        with _backend(ctx) as backend:
            built = transfer.build_plan(
                conn, config, backend, transfer.listed_inventory(conn, config, backend)
            )
        pending = [t for t in transfer.load_transfers(conn, config) if t.state in ("planned", "failed")]
        result = Plan(
            PHASE, steps=plan_steps(built, pending, config.storage.keep_sources), state={"plan": built}
        )
        result.counts = {**built.counts, "earlier copies to finish": len(pending)}
        result.notes = [f"left alone: {where}: {reason}" for where, reason in transfer.left_alone(built)]
        result.files = lambda: _move_map_files(ctx, built, pending)
        result.notes += [
            f"kept: {bucket}/{name} (copied, not deleted: the Storage API cannot write this key back, "
            "so a rollback could not restore it)"
            for bucket, name in built.unwritable
        ]
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        conn, config = ctx.conn, ctx.config
        with _backend(ctx) as backend:

            def total(files: int, size: int) -> None:
                ctx.events.progress("files", 0, total=files)

            done = transfer.apply(
                conn,
                config,
                backend,
                on_progress=lambda files, size: ctx.events.progress("files", files),
                on_total=total,
                crash=transfer.CrashPoint.from_environment(),
                planned=plan.state["plan"],
            )
        details: dict[str, list[str]] = {}
        if done.failed:
            details["failed"] = [
                f"{t.source_bucket}/{t.source_name} -> {t.dest_name}: {t.detail}" for t in done.failed[:100]
            ]
        if done.refused:
            # Left as they were, with the database's reason; storage verify lists them (exit 1).
            details["refused"] = [f"{f.where}: {f.detail}" for f in done.refused[:100]]
        return Result(PHASE, "apply", done.counts, details)

    def verify(self, ctx: Context) -> Report:
        with _backend(ctx) as backend:
            checked = transfer.verify(ctx.conn, ctx.config, backend)
        report = Report(PHASE, counts=dict.fromkeys(CHECKS, 0))
        for found in checked.findings:
            report.counts[found.check] = report.counts.get(found.check, 0) + 1
            if report.counts[found.check] <= 50:
                report.findings.append(Finding(found.check, found.where, found.detail))
        report.notes = {"references checked": checked.checked, **checked.notes}
        return report

    def rollback_plan(self, ctx: Context) -> Plan:
        conn, config = ctx.conn, ctx.config
        transfers = transfer.load_transfers(conn, config)
        rewritten = transfer.rewritten_references(conn, config)
        restored = sorted({t.source for t in transfers if t.state == "source_deleted"})
        steps = [
            Step(
                PHASE, f"restore {bucket}/{_shown(name)}", operation=f"restore {bucket}/{name} from its copy"
            )
            for bucket, name in restored
        ]
        steps += [
            Step(
                PHASE,
                f"restore {_where(table_name, row_id, column, path)}",
                operation=f"restore {_where(table_name, row_id, column, path)}: {new} -> {old}",
            )
            for table_name, row_id, column, path, old, new in rewritten
        ]
        steps += [
            Step(
                PHASE,
                f"remove {t.dest_bucket}/{_shown(t.dest_name)}",
                operation=f"remove {t.dest_bucket}/{t.dest_name}",
            )
            for t in transfers
        ]
        return Plan(PHASE, "rollback", steps=steps)

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        conn, config = ctx.conn, ctx.config
        with _backend(ctx) as backend:
            try:
                counts = transfer.rollback(
                    conn, config, backend, crash=transfer.CrashPoint.from_environment()
                )
            except transfer.RestoreMismatch as exc:
                raise FindingsError(
                    str(exc), hint="the copy in chat-files differs from the inventory"
                ) from exc
            left = transfer.load_transfers(conn, config)
        if left:
            raise FindingsError(
                f"storage rollback left {len(left)} copies in its journal",
                hint="re-run `consolidate storage rollback --apply` to finish it",
            )
        return Result(PHASE, "rollback", counts)


def require_clean(report: Report) -> None:
    if not report.clean:
        raise FindingsError(
            f"storage verification found {report.total} discrepancies",
            hint="see the list above; re-run `consolidate storage --apply` to resume, then verify again",
        )
