"""Journal: who ran what with which config and SQL, one operator per phase, deterministic ids agree."""

from __future__ import annotations

import contextlib
import uuid

import pytest

from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.core.errors import PhaseBusyError
from consolidation.core.session_key import direct_session_id, message_id
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()
PAIRS = [
    (uuid.UUID(int=1), uuid.UUID(int=2)),
    (uuid.uuid4(), uuid.uuid4()),
    (uuid.UUID(int=2**128 - 1), uuid.UUID(int=0)),
]


def test_phase_record_says_who_when_config_sql_and_counts(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        run = journal.start_run(conn, CONFIG, "test")
        with journal.recorded_phase(conn, run, "demo-phase", "apply", "a1b2") as record:
            record.counts = {"rows": 3}
        row = journal.latest(conn, CONFIG, "demo-phase")
        identifier = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()[0]
        stored = conn.execute(
            "SELECT system_identifier, os_user FROM consolidation.runs WHERE id = %s", [run.id]
        )
    assert row is not None and row["status"] == "completed" and row["counts"] == {"rows": 3}
    assert row["config_fingerprint"] == CONFIG.fingerprint()
    assert row["sql_sha256"] == "a1b2"
    assert row["db_user"] and row["os_user"] and row["finished_at"] >= row["started_at"]
    assert stored.fetchone() == (identifier, journal.os_user())


def test_a_failed_phase_is_recorded_as_failed(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        run = journal.start_run(conn, CONFIG, "test")
        with pytest.raises(RuntimeError):
            with journal.recorded_phase(conn, run, "demo-phase", "apply", ""):
                raise RuntimeError("disk full")
        failed = journal.latest(conn, CONFIG, "demo-phase", status="failed")
    assert failed is not None and failed["status"] == "failed"


def test_a_second_operator_is_refused_while_the_phase_runs(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as first, empty_db.connect() as second:
        first.execute("SET application_name = 'operator one'")
        with journal.phase_lock(first, CONFIG, "merge"):
            with pytest.raises(PhaseBusyError, match="operator one"):
                with journal.phase_lock(second, CONFIG, "merge"):
                    pass
            with journal.phase_lock(second, CONFIG, "backup"):
                pass
        with journal.phase_lock(second, CONFIG, "merge"):
            pass


def test_the_one_rule_for_applied_and_verified(empty_db: LocalDatabase) -> None:
    """Applied: a completed apply no later completed rollback undid; verified: its newest verdict
    is clean; an unfinished run after the last completed one is named; a dead 'running' record
    is marked interrupted by the next holder of the lock."""
    with empty_db.connect() as conn:
        assert journal.phase_state(conn, CONFIG, "x") == journal.PhaseState("x")
        run = journal.start_run(conn, CONFIG, "test")

        def record(action: str, fail: bool = False) -> int:
            with pytest.raises(RuntimeError) if fail else contextlib.nullcontext():
                with journal.recorded_phase(conn, run, "x", action, "h") as made:
                    if fail:
                        raise RuntimeError("boom")
            return made.id

        applied = record("apply")
        state = journal.phase_state(conn, CONFIG, "x")
        assert (state.applied_record, state.verified, state.findings) == (applied, False, None)
        journal.record_verdict(conn, run, "x", {"rows": 2, "files": 0}, {})
        assert journal.phase_state(conn, CONFIG, "x").finding_total == 2
        journal.record_verdict(conn, run, "x", {"rows": 0, "files": 0}, {})
        assert journal.phase_state(conn, CONFIG, "x").verified
        record("apply", fail=True)
        state = journal.phase_state(conn, CONFIG, "x")
        assert (state.applied, state.unfinished, state.verified) == (True, "apply failed", False)
        record("rollback")
        assert journal.phase_state(conn, CONFIG, "x") == journal.PhaseState("x")
        conn.execute(
            "INSERT INTO consolidation.phase_records (run_id, phase, action, status, config_fingerprint,"
            " sql_sha256) VALUES (%s, 'x', 'apply', 'running', 'f', 'h')",
            [run.id],
        )
        assert journal.phase_state(conn, CONFIG, "x").unfinished == "apply running"
        with journal.phase_lock(conn, CONFIG, "x"):
            assert len(journal.mark_interrupted(conn, CONFIG, "x")) == 1
        assert journal.phase_state(conn, CONFIG, "x").unfinished == "apply interrupted"


def test_a_journal_of_an_earlier_version_learns_verdicts_and_interruptions(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        journal.install(conn, CONFIG)
        conn.execute(
            "ALTER TABLE consolidation.phase_records DROP CONSTRAINT phase_records_action_check,"
            " DROP CONSTRAINT phase_records_status_check,"
            " ADD CHECK (action IN ('apply', 'rollback')),"
            " ADD CHECK (status IN ('running', 'completed', 'failed'))"
        )
        journal.install(conn, CONFIG)
        run = journal.start_run(conn, CONFIG, "test")
        journal.record_verdict(conn, run, "x", {}, {})
        checks = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'consolidation.phase_records'::regclass"
            " AND contype = 'c'"
        ).fetchone()[0]
    assert checks == 2


def test_install_is_idempotent(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        journal.install(conn, CONFIG)
        journal.install(conn, CONFIG)
        assert journal.installed(conn, CONFIG)


@pytest.mark.parametrize("a, b", PAIRS)
def test_session_key_is_order_free_and_sql_agrees_with_python(empty_db: LocalDatabase, a, b) -> None:
    namespace = CONFIG.session_rule.direct_namespace
    expected = direct_session_id(namespace, a, b)
    assert expected == direct_session_id(namespace, b, a)
    assert expected.version == 8 and expected.variant == uuid.RFC_4122
    with empty_db.connect() as conn:
        journal.install(conn, CONFIG)
        in_sql = conn.execute(
            "SELECT consolidation.direct_session_id(%(n)s, %(a)s, %(b)s), "
            "consolidation.direct_session_id(%(n)s, %(b)s, %(a)s), "
            "consolidation.message_id(%(n)s, 'messages', %(a)s)",
            {"n": namespace, "a": a, "b": b},
        ).fetchone()
    assert in_sql == (expected, expected, message_id(namespace, "messages", a))


def test_sql_orders_uuids_as_python_does(empty_db: LocalDatabase) -> None:
    values = [uuid.uuid4() for _ in range(50)] + [uuid.UUID(int=2**127), uuid.UUID(int=2**127 - 1)]
    with empty_db.connect() as conn:
        ordered = [row[0] for row in conn.execute("SELECT unnest(%s::uuid[]) AS u ORDER BY u", [values])]
    assert ordered == sorted(values)
