"""Journal: who ran what with which config and SQL, one operator per phase, deterministic ids agree."""

from __future__ import annotations

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
        with journal.recorded_phase(conn, run, "demo-phase", "apply", ["SELECT 1", "SELECT 2"]) as record:
            record.counts = {"rows": 3}
        row = journal.latest(conn, CONFIG, "demo-phase")
        identifier = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()[0]
        stored = conn.execute(
            "SELECT system_identifier, os_user FROM consolidation.runs WHERE id = %s", [run.id]
        )
    assert row is not None and row["status"] == "completed" and row["counts"] == {"rows": 3}
    assert row["config_fingerprint"] == CONFIG.fingerprint()
    assert row["sql_sha256"] == journal.sql_sha256(["SELECT 1", "SELECT 2"])
    assert row["db_user"] and row["os_user"] and row["finished_at"] >= row["started_at"]
    assert stored.fetchone() == (identifier, journal.os_user())


def test_a_failed_phase_is_recorded_as_failed(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        run = journal.start_run(conn, CONFIG, "test")
        with pytest.raises(RuntimeError):
            with journal.recorded_phase(conn, run, "demo-phase", "apply", []):
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
