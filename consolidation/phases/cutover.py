"""Cut-over: close the legacy tables, forward the last captured changes, stop capture, verify."""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg
from psycopg import sql

from consolidation.core import crash, journal, sqlfiles
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.ddl import BoundedExecutor
from consolidation.core.errors import FindingsError, UsageError
from consolidation.core.names import identifiers
from consolidation.phases import capture, merge, realtime, sync, verify
from consolidation.phases.contract import Context, Finding, Option, Plan, Report, Result, Step
from consolidation.phases.policies import restore_table

PHASE = "cutover"
CLOSE = "cutover/010_close_legacy.sql"
STOP = "cutover/020_stop_capture.sql"
REOPEN = "cutover/090_reopen_legacy.sql"
API_ROLES = ("anon", "authenticated", "service_role")
MARKER = "legacy: cut over, service_role only"


def app_changes(config: Config) -> list[str]:
    """What the app must change when the legacy path closes, in the configured names."""
    t, c = config.tables, config.columns
    return [
        f"read and write {t.chat_messages} instead of {t.messages} and {t.voice_notes} "
        f"(both close to anon and authenticated)",
        f"{t.messages}.{c.messages.booking_id} and the {c.messages.sender_id}/{c.messages.recipient_id} pair "
        f"become {t.chat_messages}.{c.chat_messages.session_id} (a {t.chat_sessions} row: the booking's id, "
        "or the pair's derived id for a direct message)",
        f"{t.voice_notes}.{c.voice_notes.user_id} becomes {c.chat_messages.sender_id}, "
        f"{c.voice_notes.context_id} becomes {c.chat_messages.session_id}; "
        f"type '{config.voice_notes.message_type}' marks a voice message",
        f"message types map as {dict(config.type_map)}",
        f"files live in the private bucket {config.storage.target_bucket} at "
        "<session_id>/<sender_id>/<file>: fetch them through signed URLs (never public URLs)",
        f"order a session's messages by {c.chat_messages.created_at}, then id "
        "(the sequence the tool keeps follows that order)",
    ]


def statements(config: Config, publication: realtime.Publication | None = None) -> list[Step]:
    """Close, forward, stop capture (forward again), then the Realtime publication's switch as
    PUBLICATION stands now."""
    names = identifiers(config)
    forward = [
        Step(PHASE, f"forward: {step.name}", step.sql, repeats="per captured change")
        for step in merge.statements(config)
        if step.name.startswith(("021_forward", "045_forward_lock", "050_take")) or step.name in FORWARD_STEPS
    ]
    close, stop = (
        Step(PHASE, path.split("/")[-1].removesuffix(".sql"), sqlfiles.render(path, names))
        for path in (CLOSE, STOP)
    )
    # The way back's log, on before the legacy path closes: a rollback carries back what the new
    # app wrote since.
    carry = [
        Step(PHASE, f"write-back log: {name}", text)
        for name, text in capture.install_write_back_statements(config)
    ]
    published = [
        Step(PHASE, f"realtime: {number}", text)
        for number, text in enumerate(realtime.switch_statements(config, publication), start=1)
    ]
    return [*carry, close, *forward, stop, *published]


# The steps of merge's forwarding that cut-over runs after closing and after stopping capture.
FORWARD_STEPS = frozenset(name.split("/")[-1].removesuffix(".sql") for name in merge.FORWARD_FILES)


def legacy_snapshot(conn: psycopg.Connection, config: Config) -> list[dict[str, Any]]:
    names = ("schema", "table", "rls", "force_rls", "table_privileges", "column_privileges")
    rows = conn.execute(
        sqlfiles.load("policies/inspect/tables.sql"),
        {
            "roles": list(API_ROLES),
            "schemas": [config.tables.schema_] * 2,
            "tables": [config.tables.messages, config.tables.voice_notes],
        },
    ).fetchall()
    return [dict(zip(names, row, strict=True)) for row in rows]


def legacy_closed(conn: psycopg.Connection, config: Config) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_policies WHERE schemaname = %s AND tablename = ANY (%s) AND policyname = %s",
        [config.tables.schema_, [config.tables.messages, config.tables.voice_notes], MARKER],
    ).fetchone()
    return bool(row and row[0])


def _earlier_details(conn: psycopg.Connection, config: Config) -> dict[str, Any]:
    """What the earlier, interrupted cut-over recorded before it closed the legacy tables."""
    row = conn.execute(
        sql.SQL(
            "SELECT details FROM {} WHERE phase = %s AND action = 'apply' "
            "AND details ? 'snapshot' ORDER BY id DESC LIMIT 1"
        ).format(identifiers(config)["tool.phase_records"]),
        [PHASE],
    ).fetchone()
    if row is None:
        raise UsageError(
            "the legacy tables are closed, but no cut-over recorded how they were before",
            hint="they were closed by something else (e.g. `policies apply --include-legacy`); "
            "re-open them by hand or with `consolidate policies rollback --apply`",
        )
    return row[0]


def _as_json(publication: realtime.Publication | None) -> dict[str, Any] | None:
    return publication.as_json() if publication else None


def _from_json(data: dict[str, Any] | None) -> realtime.Publication | None:
    return realtime.Publication.from_json(data) if data else None


def _publication_note(publication: realtime.Publication) -> str:
    if not publication.exists:
        return f"realtime: there is no publication {publication.name}; nothing to publish"
    if publication.all_tables:
        return f"realtime: {publication.name} streams every table (FOR ALL TABLES); left as it is"
    return (
        f"realtime: once verified, {publication.name} streams {', '.join(realtime.PUBLISHED)} and no longer "
        f"{', '.join(realtime.UNPUBLISHED)} (now: {publication.shown()}); rollback restores it"
    )


def _executor(conn: psycopg.Connection, config: Config) -> BoundedExecutor:
    return BoundedExecutor(
        conn, lock_timeout_ms=config.merge.lock_timeout_ms, max_retries=config.merge.max_retries
    )


def reopen_statements(config: Config, snapshot: list[dict[str, Any]]) -> list[str]:
    """What re-opens the legacy path: the marker goes, privileges and row security come back."""
    statements = [sqlfiles.render(REOPEN, identifiers(config))]
    for legacy in snapshot:
        statements.extend(restore_table(legacy))
    return statements


def _reopen(conn: psycopg.Connection, config: Config, snapshot: list[dict[str, Any]]) -> None:
    _executor(conn, config).statements("re-open the legacy tables", reopen_statements(config, snapshot))
    capture.install(conn, config)


def _closed_findings(conn: psycopg.Connection, config: Config) -> list[Finding]:
    """Whether the legacy tables are closed to the API roles as cut-over leaves them."""
    findings = []
    for legacy in legacy_snapshot(conn, config):
        where = f"{legacy['schema']}.{legacy['table']}"
        open_to = sorted(
            {role for role, _privilege, _grantable in legacy["table_privileges"]} - {"service_role"}
        )
        if open_to:
            findings.append(Finding("legacy_open", where, f"still granted to {', '.join(open_to)}"))
        if not legacy["rls"]:
            findings.append(Finding("legacy_open", where, "row level security is off"))
    if not legacy_closed(conn, config):
        findings.append(Finding("legacy_open", "legacy tables", f"the policy {MARKER!r} is missing"))
    return findings


class Cutover:
    """Close the legacy path once the app has switched: forward the last changes, stop capture, verify."""

    name: ClassVar[str] = PHASE
    requires: ClassVar[tuple[str, ...]] = ("merge", "storage", "policies")
    tables: ClassVar[tuple[str, ...]] = ("messages", "voice_notes", "chat_sessions", "chat_messages")
    summary: ClassVar[str] = (
        "Close the legacy tables to the API roles, forward every captured change, verify."
    )
    options: ClassVar[tuple[Option, ...]] = ()

    def plan(self, ctx: Context, *, counts: bool = True) -> Plan:
        conn, config = ctx.conn, ctx.config
        fix_output_settings(conn)
        journal_ready = journal.installed(conn, config)
        state = capture.state(conn, config) if journal_ready else capture.CaptureState(False, False, 0, 0)
        publication = realtime.standing(conn, config)
        result = Plan(
            PHASE,
            steps=statements(config, publication),
            notes=[f"the app must change: {c}" for c in app_changes(config)],
        )
        result.counts = {
            "capture trigger on messages": int(state.messages),
            "capture trigger on voice_notes": int(state.voice_notes),
            "changes waiting to be forwarded": state.pending,
            "changes logged": state.logged,
            "realtime publication now": publication.shown() if publication else "left alone (configured off)",
        }
        if publication is not None:
            result.notes.append(_publication_note(publication))
        if counts and journal_ready:
            # What apply checks again itself before anything closes.
            result.blockers = merge.Merge().verify(ctx).findings
        return result

    def apply(self, ctx: Context, plan: Plan) -> Result:
        """Close the legacy tables, forward, stop capture, forward what was in flight, verify; on a
        failed final verification re-open the legacy path and raise (journaled failed)."""
        conn, config, record = ctx.conn, ctx.config, ctx.record
        assert record is not None
        fix_output_settings(conn)
        # A cut-over never starts on a failed verification: checked before anything closes.
        before = merge.Merge().verify(ctx)
        if not before.clean:
            shown = "; ".join(f"{f.where}: {f.detail}" for f in before.findings[:3])
            raise FindingsError(
                f"cut-over refused before closing anything: merge's verification found {before.total} "
                f"discrepancies ({shown})",
                hint="run `consolidate merge verify` for the list; fix them, then cut over",
            )
        by_name = {step.name: step.sql for step in plan.steps}
        # What rollback puts back: the legacy tables as they are now, unless an interrupted
        # cut-over already closed them; then the snapshot that one took.
        closed = legacy_closed(conn, config)
        earlier = _earlier_details(conn, config) if closed else {}
        snapshot = earlier["snapshot"] if closed else legacy_snapshot(conn, config)
        # The publication as it was before any cut-over changed it (rollback's target).
        publication = earlier.get("publication") if closed else _as_json(realtime.standing(conn, config))
        # Whether the way back's log was on before (sync had turned it on): rollback leaves it so.
        logged = earlier.get("write_back_log_was_on") if closed else capture.write_back_on(conn, config)
        record.details = {"snapshot": snapshot, "publication": publication, "write_back_log_was_on": logged}
        # Journaled before the tables close: a cut-over killed after closing them resumes from it.
        journal.save_details(conn, config, record)
        bounded = _executor(conn, config)
        capture.install_write_back(conn, config)
        attempts = bounded.statements("close the legacy tables", [by_name["010_close_legacy"]])
        crash.point("cutover.closed")
        forwarded = merge.forward(conn, config).run_counts
        attempts += bounded.statements("stop capture", [by_name["020_stop_capture"]])
        last = merge.forward(conn, config).run_counts
        report = verify.run(conn, config)
        pending = capture.state(conn, config).pending
        record.counts = {
            "forwarded": dict(forwarded + last),
            "pending_after": pending,
            "lock_attempts": attempts,
        }
        record.details = {**record.details, "verify": report.counts}
        if not report.clean or pending:
            _reopen(conn, config, snapshot)
            record.details["reopened"] = True
            raise FindingsError(
                f"cut-over's final verification failed ({sum(report.counts.values())} discrepancies, "
                f"{pending} captured changes not forwarded): the legacy path is open again",
                hint="run `consolidate verify` for the list, fix it, then `consolidate cutover --apply`",
            )
        # Verified: Realtime streams the new tables from now on, and the legacy ones no longer.
        published = [step.sql for step in plan.steps if step.name.startswith("realtime: ")]
        if published:
            record.counts["lock_attempts"] += bounded.statements(
                "realtime: publish the chat tables", published
            )
        now = realtime.standing(conn, config)
        record.counts["realtime publication"] = now.shown() if now else "left alone (configured off)"
        return Result(PHASE, "apply", record.counts, record.details)

    def verify(self, ctx: Context) -> Report:
        conn, config = ctx.conn, ctx.config
        report = Report(PHASE, counts={"legacy_open": 0, "capture_pending": 0, "realtime": 0, "merge": 0})
        report.findings = _closed_findings(conn, config)
        report.counts["legacy_open"] = len(report.findings)
        publication = realtime.standing(conn, config)
        if publication is not None:
            report.notes["realtime publication"] = publication.shown()
            if realtime.switch_statements(config, publication):
                report.counts["realtime"] = 1
                report.findings.append(
                    Finding(
                        "realtime",
                        publication.name,
                        f"does not stream the chat tables only: {publication.shown()}",
                    )
                )
        pending = capture.state(conn, config).pending
        if pending:
            report.counts["capture_pending"] = pending
            report.findings.append(
                Finding("capture_pending", "capture_log", f"{pending} changes not forwarded")
            )
        checked = merge.Merge().verify(ctx)
        report.counts["merge"] = checked.total
        report.findings += checked.findings[:20]
        return report

    def rollback_plan(self, ctx: Context) -> Plan:
        applied = journal.latest(ctx.conn, ctx.config, PHASE)
        snapshot = applied["details"]["snapshot"] if applied else []
        steps = [Step(PHASE, "reopen the legacy tables", "\n".join(reopen_statements(ctx.config, snapshot)))]
        # Before the legacy path re-opens: every message the new app wrote since the cut-over (in a
        # session with a legacy home) is written into the legacy table, so the old app shows it.
        steps = [
            Step(
                PHASE,
                f"carry back: {path.split('/')[-1].removesuffix('.sql')}",
                sqlfiles.render(path, identifiers(ctx.config)),
                repeats="per app change",
            )
            for path in sync.WRITE_BACK_FILES
        ] + steps
        steps += [
            Step(PHASE, f"capture: {name}", text) for name, text in capture.install_statements(ctx.config)
        ]
        before = (applied["details"].get("publication") if applied else None) or None
        restore = realtime.restore_statements(
            ctx.config, realtime.standing(ctx.conn, ctx.config), _from_json(before)
        )
        steps += [Step(PHASE, f"realtime: {number}", text) for number, text in enumerate(restore, start=1)]
        was_on = bool(applied["details"].get("write_back_log_was_on", True)) if applied else True
        if not was_on:
            names = identifiers(ctx.config)
            steps += [
                Step(
                    PHASE,
                    f"write-back log: {path.split('/')[-1].removesuffix('.sql')}",
                    sqlfiles.render(path, names),
                )
                for path in capture.WRITE_BACK_REMOVE_ALL
            ]
        return Plan(
            PHASE,
            "rollback",
            steps=steps,
            state={"snapshot": snapshot, "publication": before, "write_back_log_was_on": was_on},
        )

    def rollback(self, ctx: Context, plan: Plan) -> Result:
        """Re-open the legacy path: privileges and row security as before the cut-over, capture on."""
        conn, config = ctx.conn, ctx.config
        snapshot = plan.state["snapshot"]
        carried = sync.WriteBack(conn, config, config.sync.batch_size).drain()
        if carried:
            # The new app's messages since the cut-over are in the tool's sequence too.
            merge.Batches(conn, config, config.sync.batch_size).sequence(0)
        if not plan.state.get("write_back_log_was_on", True):
            # Cut-over turned the way back's log on for this carry-back: it goes as it came.
            capture.remove_write_back_entirely(conn, config)
        reopen = next(step.sql for step in plan.steps if step.name == "reopen the legacy tables")
        _executor(conn, config).statements("re-open the legacy tables", [reopen])
        capture.install(conn, config)
        restore = [step.sql for step in plan.steps if step.name.startswith("realtime: ")]
        if restore:
            _executor(conn, config).statements("realtime: restore the publication", restore)
        now = {(t["schema"], t["table"]): t for t in legacy_snapshot(conn, config)}
        differing = [
            f"{t['schema']}.{t['table']}" for t in snapshot if now.get((t["schema"], t["table"])) != t
        ]
        before = _from_json(plan.state.get("publication"))
        published = realtime.standing(conn, config)
        if before is not None and published is not None and published.members != before.members:
            differing.append(f"publication {before.name} ({published.shown()}, was {before.shown()})")
        if differing:
            raise FindingsError(
                f"cut-over rolled back, but {', '.join(differing)} differ from their pre-cut-over snapshot",
                hint="compare their privileges and row security with the snapshot in the journal",
            )
        shown = published.shown() if published else "left alone (configured off)"
        return Result(
            PHASE,
            "rollback",
            {
                "statements": len(plan.steps),
                "capture": "on",
                "realtime publication": shown,
                "carried back": carried,
            },
        )
