"""Constraints phase: violations listed first, keys and indexes added under bounded locks, exact rollback."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from conftest import RetryEvents, apply, consolidate, rollback

from consolidation.core import journal
from consolidation.core.config import Config, parse_config
from consolidation.core.ddl import LockRetry
from consolidation.core.errors import FindingsError, PhaseBusyError, PhaseOrderError
from consolidation.phases import constraints
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

CONFIG = Config()
SMALL_WORLD = Path(__file__).parent / "fixtures" / "constraints" / "small_world.sql"

# Everything the phase could change on the chat tables: constraints (with validity), indexes
# (with validity) and NOT NULL flags.
CATALOG = """
SELECT 'constraint', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.convalidated::text
FROM pg_constraint AS c
WHERE c.conrelid IN ('public.chat_messages'::regclass, 'public.chat_sessions'::regclass)
UNION ALL
SELECT 'index', x.indrelid::regclass::text, i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid::text
FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE x.indrelid IN ('public.chat_messages'::regclass, 'public.chat_sessions'::regclass)
UNION ALL
SELECT 'column', a.attrelid::regclass::text, a.attname, '', a.attnotnull::text
FROM pg_attribute AS a WHERE a.attrelid = 'public.chat_messages'::regclass AND a.attnum > 0
ORDER BY 1, 2, 3
"""


def catalog(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(CATALOG).fetchall()


def small_world(database: LocalDatabase) -> psycopg.Connection:
    """The legacy schema and a few rows: enough for the phase's locks, fast to make."""
    conn = database.connect()
    apply_legacy_schema(conn)
    conn.execute(SMALL_WORLD.read_text(encoding="utf-8"))
    return conn


def merged(database: LocalDatabase) -> psycopg.Connection:
    """The seeded database after a verified backup and the merge, as the phase finds it."""
    apply(database, "backup")
    apply(database, "merge")
    return database.connect()


def test_seeded_database_plan_apply_verify_and_a_second_apply_does_nothing(legacy_db: LocalDatabase) -> None:
    with merged(legacy_db) as conn:
        before = catalog(conn)
        planned = consolidate(legacy_db, "constraints", "plan")
        assert planned.returncode == 0, planned.stderr
        assert catalog(conn) == before, "plan wrote to the database"
        assert "ALTER TABLE" in planned.stdout and "VALIDATE CONSTRAINT" in planned.stdout
        assert constraints.plan(conn, CONFIG).blocking == {}

        applied = consolidate(legacy_db, "constraints", "--apply")
        assert applied.returncode == 0, applied.stderr
        verified = consolidate(legacy_db, "constraints", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        record = journal.latest(conn, CONFIG, constraints.PHASE)
        assert record and record["counts"]["steps run"] == 22

        after = catalog(conn)
        again = apply(legacy_db, "constraints")
        assert again.noop and catalog(conn) == after
        assert constraints.plan(conn, CONFIG).steps == []
    definitions = {row[2]: row[3] for row in after}
    assert definitions["chat_messages_reply_to_message_id_fkey"].endswith("ON DELETE SET NULL")
    assert definitions["chat_messages_sender_id_fkey"] == "FOREIGN KEY (sender_id) REFERENCES auth.users(id)"
    assert "WHERE (reply_to_message_id IS NOT NULL)" in definitions["chat_messages_reply_to_message_id_idx"]
    not_null = {row[2] for row in after if row[0] == "column" and row[4] == "true"}
    assert {"session_id", "sender_id", "type", "created_at"} <= not_null
    assert not any(row[2].endswith("_not_null_check") for row in after), "helper checks are dropped"


# What is there before the phase, what plan says of it, and that rollback puts it back exactly.
PRE_EXISTING = {
    "nothing": ("", {"fk.session": "absent", "index.sender": "absent", "not_null.type": "absent"}),
    "an equivalent sender index under another name": (
        "CREATE INDEX idx_chat_messages_sender_id ON public.chat_messages (sender_id)",
        {"index.sender": "valid (idx_chat_messages_sender_id)"},
    ),
    "a session foreign key added NOT VALID by someone else": (
        "ALTER TABLE public.chat_messages ADD CONSTRAINT fk_session FOREIGN KEY (session_id) "
        "REFERENCES public.chat_sessions (id) NOT VALID",
        {"fk.session": "not_valid (fk_session)"},
    ),
    "type already NOT NULL": (
        "ALTER TABLE public.chat_messages ALTER COLUMN type SET NOT NULL",
        {"not_null.type": "valid"},
    ),
    "an invalid index left by an interrupted build": (
        # A unique build over duplicate senders fails half way, leaving an invalid index behind.
        "CREATE UNIQUE INDEX CONCURRENTLY chat_messages_sender_id_idx ON public.chat_messages (sender_id)",
        {"index.sender": "invalid"},
    ),
}


@pytest.mark.parametrize("case", PRE_EXISTING, ids=list(PRE_EXISTING))
def test_apply_builds_only_what_is_missing_and_rollback_restores_the_rest(
    empty_db: LocalDatabase, case: str
) -> None:
    setup, expected_states = PRE_EXISTING[case]
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(SMALL_WORLD.read_text(encoding="utf-8"))
        if setup:
            try:
                conn.execute(setup)
            except psycopg.errors.UniqueViolation:
                pass
        before = catalog(conn)
        states = {
            row["requirement"]: row["state"] for row in constraints.summary(constraints.plan(conn, CONFIG))
        }
        by_key = {r.key: r.description for r in constraints.requirements(CONFIG)}
        assert {key: states[by_key[key]] for key in expected_states} == expected_states

        done = apply(empty_db, "constraints", force_order=True)
        assert done.report.clean and constraints.verify(conn, CONFIG) == []
        undo = rollback(empty_db, "constraints").plan.steps
        after = catalog(conn)
    if case == "an invalid index left by an interrupted build":
        # Rebuilt, and left rebuilt: an invalid index serves nothing, so there is nothing to restore.
        assert [r for r in after if r[2] != "chat_messages_sender_id_idx"] == [
            r for r in before if r[2] != "chat_messages_sender_id_idx"
        ]
        assert [r[4] for r in after if r[2] == "chat_messages_sender_id_idx"] == ["true"]
    else:
        assert after == before
    if case == "a session foreign key added NOT VALID by someone else":
        assert any("restore not valid" in step.name for step in undo)


def test_violations_are_listed_per_constraint_and_apply_refuses_before_any_change(
    legacy_db: LocalDatabase, tmp_path: Path
) -> None:
    config_file = tmp_path / "profiles.toml"
    config_file.write_text('[constraints]\nsender_references = "profiles"\nviolation_sample = 3\n')
    config = parse_config(config_file.read_text())
    with merged(legacy_db) as conn:
        # An app row with no session, and one replying to a message that is gone.
        conn.execute("""
            INSERT INTO public.chat_messages (id, session_id, sender_id, type, content, reply_to_message_id)
            SELECT '00000000-0000-4000-8000-000000000001', NULL, p.id, 'text', 'no session', NULL
            FROM public.profiles AS p ORDER BY p.id LIMIT 1;
            INSERT INTO public.chat_messages (id, session_id, sender_id, type, content, reply_to_message_id)
            SELECT '00000000-0000-4000-8000-000000000002', s.id, s.participants[1], 'text', 'reply',
                   '00000000-0000-4000-8000-0000000000ff'
            FROM public.chat_sessions AS s ORDER BY s.id LIMIT 1;
        """)
        planned = constraints.plan(conn, config)
        counts = {key: found.count for key, found in planned.blocking.items()}
        # Senders without a profile: one seeded user (every 25th) signed up but has no profile;
        # merge accepted their messages (they are in auth.users), a profiles key rejects them.
        profileless = conn.execute(
            "SELECT count(*) FROM public.chat_messages AS c "
            "WHERE NOT EXISTS (SELECT FROM public.profiles AS p WHERE p.id = c.sender_id)"
        ).fetchone()[0]
        assert profileless > 0
        assert counts == {"fk.sender": profileless, "fk.reply_to": 1, "not_null.session_id": 1}
        assert len(planned.blocking["fk.sender"].sample) == 3
        assert planned.blocking["fk.reply_to"].sample == [
            ("00000000-0000-4000-8000-000000000002", "00000000-0000-4000-8000-0000000000ff")
        ]

        before = catalog(conn)
        journal_before = conn.execute("SELECT count(*) FROM consolidation.phase_records").fetchone()
        refused = consolidate(legacy_db, "constraints", "--apply", "--config", str(config_file))
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "nothing changed" in refused.stderr
        assert f"sender_id → profiles: {profileless} rows" in refused.stderr
        assert catalog(conn) == before
        # A refused command writes nothing: not a record, not a baseline.
        assert conn.execute("SELECT count(*) FROM consolidation.phase_records").fetchone() == journal_before
        assert journal.baseline(conn, config, constraints.PHASE) is None
        shown = consolidate(legacy_db, "constraints", "plan", "--config", str(config_file))
        assert shown.returncode == 0 and "00000000-0000-4000-8000-0000000000ff" in shown.stdout


def test_a_held_lock_is_waited_for_in_bounded_slices_and_retried(empty_db: LocalDatabase) -> None:
    config = parse_config("[constraints]\nlock_timeout_ms = 100\nmax_retries = 8\n")
    with small_world(empty_db) as conn, empty_db.connect(autocommit=False) as blocker:
        blocker.execute("LOCK TABLE public.chat_messages IN ACCESS EXCLUSIVE MODE")
        seen: list[LockRetry] = []

        def release_after_two(event: LockRetry) -> None:
            seen.append(event)
            if len(seen) == 2:
                blocker.commit()

        done = apply(
            empty_db, "constraints", config=config, events=RetryEvents(release_after_two), force_order=True
        )
        # The preview's read waited first: each wait bounded, reported, retried.
        assert len(seen) == 2 and {r.sqlstate for r in seen} == {"55P03"}
        assert done.result.counts["steps run"] == 22 and constraints.verify(conn, config) == []


def test_giving_up_names_the_blocker_and_a_rerun_completes(empty_db: LocalDatabase) -> None:
    config = parse_config("[constraints]\nlock_timeout_ms = 50\nmax_retries = 1\n")
    with small_world(empty_db) as conn, empty_db.connect(autocommit=False) as blocker:
        pid = blocker.info.backend_pid
        # Reads go on (the plan passes); every DDL step of the phase conflicts with this lock.
        blocker.execute("LOCK TABLE public.chat_messages IN SHARE ROW EXCLUSIVE MODE")
        with pytest.raises(
            PhaseBusyError, match=f"gave up after 1 retries.*pid {pid} \\(ShareRowExclusiveLock"
        ):
            apply(empty_db, "constraints", config=config, force_order=True)
        failed = journal.latest(conn, config, constraints.PHASE, status="failed")
        assert failed and len(failed["details"]["retries"]) == 2
        blocker.rollback()
        resumed = apply(empty_db, "constraints", config=config, force_order=True)
        assert resumed.result.counts["steps run"] == 22
        assert constraints.verify(conn, config) == []


def test_order_merge_first_and_policies_keep_their_indexes(legacy_db: LocalDatabase) -> None:
    with pytest.raises(PhaseOrderError, match="merge"):
        apply(legacy_db, "constraints")
    with merged(legacy_db) as conn:
        apply(legacy_db, "constraints")
        apply(legacy_db, "policies")
        with pytest.raises(PhaseOrderError, match="policies"):
            rollback(legacy_db, "constraints")
        rollback(legacy_db, "policies")
        rollback(legacy_db, "constraints")
        assert len(constraints.verify(conn, CONFIG)) == len(constraints.requirements(CONFIG))


def test_a_row_written_while_apply_waited_fails_validation_then_apply_resumes(
    empty_db: LocalDatabase,
) -> None:
    config = parse_config("[constraints]\nlock_timeout_ms = 100\n")
    with small_world(empty_db) as conn, empty_db.connect(autocommit=False) as writer:
        before = catalog(conn)
        # The writer holds the table and adds a message without a session; apply's plan cannot
        # see it yet (uncommitted), waits at the first index build, and goes on once it commits.
        writer.execute("LOCK TABLE public.chat_messages IN SHARE ROW EXCLUSIVE MODE")
        writer.execute(
            "INSERT INTO public.chat_messages (id, session_id, sender_id, type) "
            "SELECT '00000000-0000-4000-8000-000000000003', NULL, s.participants[1], 'text' "
            "FROM public.chat_sessions AS s ORDER BY s.id LIMIT 1"
        )
        with pytest.raises(FindingsError, match="session_id NOT NULL: 1 rows violate it.*000000000003"):
            apply(
                empty_db,
                "constraints",
                config=config,
                events=RetryEvents(lambda _e: writer.commit()),
                force_order=True,
            )
        # The NOT VALID check stays: it already guards new rows; validation waits for the fix.
        planned = constraints.plan(conn, config)
        assert planned.found["not_null.session_id"].state == "check_not_valid"
        assert planned.blocking["not_null.session_id"].count == 1

        conn.execute("DELETE FROM public.chat_messages WHERE id = '00000000-0000-4000-8000-000000000003'")
        resumed = [s.name for s in apply(empty_db, "constraints", config=config, force_order=True).plan.steps]
        assert "not_null.session_id: add check not valid" not in resumed
        assert "not_null.session_id: validate check" in resumed
        assert constraints.verify(conn, config) == []
        rollback(empty_db, "constraints", config=config)
        assert catalog(conn) == before
