"""Merge: every source row of the hand-built case table lands where expected.toml says, exactly once."""

from __future__ import annotations

import time
import tomllib
import uuid
from pathlib import Path

import psycopg
import pytest
from conftest import apply, load_hand_built

from consolidation import faults
from consolidation.core.config import Config
from consolidation.core.errors import PhaseOrderError, UsageError
from consolidation.core.session_key import direct_session_id, message_id
from consolidation.phases import capture, driver, merge, verify
from consolidation.phases.driver import Outcome
from consolidation.pytest_plugin import LocalCluster, LocalDatabase

FIXTURES = Path(__file__).parent / "fixtures/merge"
EXPECTED = tomllib.loads((FIXTURES / "expected.toml").read_text())
CONFIG = Config()
CASES = [(source, source_id, fate) for source, rows in EXPECTED.items() for source_id, fate in rows.items()]


def user(short: str) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-0000-0000-0000000000{short}")


def expected_session(text: str) -> uuid.UUID:
    if text.startswith("direct:"):
        a, b = text.removeprefix("direct:").split(",")
        return direct_session_id(CONFIG.session_rule.direct_namespace, user(a), user(b))
    return uuid.UUID(text)


def run_merge(
    database: LocalDatabase, *, batch_size: int = 3, with_backup: bool = True, **options: object
) -> Outcome:
    if with_backup:
        apply(database, "backup")
    return apply(database, "merge", batch_size=batch_size, **options)


def totals(done: Outcome) -> dict[str, int]:
    return done.result.counts["totals"]


def run_counts(done: Outcome) -> dict[str, int]:
    return done.result.counts["run"]


@pytest.fixture
def merged(small_world: LocalDatabase) -> tuple[psycopg.Connection, Outcome, LocalDatabase]:
    done = run_merge(small_world)
    with small_world.connect() as conn:
        yield conn, done, small_world


FATE_OF = """
SELECT fate, NULL, chat_message_id FROM consolidation.provenance
WHERE source_table = %(s)s AND source_id = %(i)s
UNION ALL
SELECT 'quarantined', reason, NULL FROM consolidation.quarantine
WHERE source_table = %(s)s AND source_id = %(i)s
UNION ALL
SELECT 'excluded', reason, NULL FROM consolidation.excluded
WHERE source_table = %(s)s AND source_id = %(i)s
"""


def fate_of(conn: psycopg.Connection, source: str, source_id: str) -> list[tuple]:
    return conn.execute(FATE_OF, {"s": source, "i": source_id}).fetchall()


@pytest.mark.parametrize("source, source_id, expected", CASES, ids=[f"{s}:{i[-2:]}" for s, i, _ in CASES])
def test_every_source_row_gets_its_expected_fate(merged, source: str, source_id: str, expected: dict) -> None:
    conn, _, _ = merged
    fates = fate_of(conn, source, source_id)
    assert len(fates) == 1, fates
    fate, reason, chat_message_id = fates[0]
    assert fate == expected["fate"]
    assert reason == expected.get("reason")
    if fate == "migrated":
        assert chat_message_id == message_id(
            CONFIG.session_rule.direct_namespace, source, uuid.UUID(source_id)
        )
    if fate == "linked":
        assert str(chat_message_id) == expected["twin"]
    if fate in ("migrated", "linked"):
        session_id, kind = conn.execute(
            "SELECT session_id, type FROM public.chat_messages WHERE id = %s", [chat_message_id]
        ).fetchone()
        assert session_id == expected_session(expected["session"])
        if "type" in expected:
            assert kind == expected["type"]


def test_sessions_follow_the_rule(merged) -> None:
    conn, _, _ = merged
    sessions = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT id, type, participants, booking_id, status, created_at::text, last_message_at::text "
            "FROM public.chat_sessions"
        ).fetchall()
    }
    b1 = sessions[user("b1")]
    assert b1[:4] == ("booking", [user("a1"), user("a3")], user("b1"), "ended")
    assert b1[4:] == ("2024-01-01 09:00:00+00", "2024-01-01 10:10:00+00")
    pair = expected_session("direct:a2,a1")
    assert sessions[pair][:2] == ("direct", sorted([user("a1"), user("a2")]))
    assert sessions[pair][4:] == ("2024-03-01 10:00:00+00", "2024-03-01 10:01:00+00")
    # The app's sessions keep everything but a later last_message_at.
    assert sessions[user("b2")][5] == "2024-01-02 11:00:00+00"
    assert sessions[user("c1")][4:] == ("2024-02-01 09:00:00+00", "2024-02-01 10:00:00+00")
    assert len(sessions) == 5


def test_voice_note_columns_and_metadata_carry_over(merged) -> None:
    conn, _, _ = merged
    voice = conn.execute(
        "SELECT c.type, c.file_url, c.file_name, c.file_size, c.duration_seconds::text, c.content "
        "FROM public.chat_messages c JOIN consolidation.provenance p ON p.chat_message_id = c.id "
        "WHERE p.source_id = %s",
        ["00000000-0000-0000-0002-000000000001"],
    ).fetchone()
    assert voice == ("audio", "voice-notes/a1/v1.webm", "v1.webm", 2048, "12.50", None)
    metadata = conn.execute(
        "SELECT c.metadata FROM public.chat_messages c "
        "JOIN consolidation.provenance p ON p.chat_message_id = c.id WHERE p.source_id = %s",
        ["00000000-0000-0000-0001-000000000001"],
    ).fetchone()[0]
    assert metadata == {"client": "web"}


def test_sequence_orders_each_session_by_created_at_then_id(merged) -> None:
    conn, _, _ = merged
    ordered = conn.execute(
        "SELECT s.sequence, c.id FROM consolidation.message_sequence s "
        "JOIN public.chat_messages c ON c.id = s.chat_message_id WHERE s.session_id = %s ORDER BY s.sequence",
        [user("b1")],
    ).fetchall()
    ids = [row[1] for row in ordered]
    assert [row[0] for row in ordered] == [1, 2, 3, 4]
    tied = sorted(
        message_id(
            CONFIG.session_rule.direct_namespace,
            "messages",
            uuid.UUID(f"00000000-0000-0000-0001-00000000000{n}"),
        )
        for n in (1, 2)
    )
    assert ids[:2] == tied
    # The app's rows in a session merge wrote into are sequenced too (b2: f1, f2, m4, f3... by time).
    b2 = conn.execute(
        "SELECT count(*) FROM consolidation.message_sequence WHERE session_id = %s", [user("b2")]
    ).fetchone()
    assert b2 == (4,)


def test_app_rows_stay_untouched(small_world: LocalDatabase) -> None:
    with small_world.connect() as conn:
        before = conn.execute("SELECT id, t::text FROM public.chat_messages t ORDER BY id").fetchall()
        run_merge(small_world)
        after = conn.execute(
            "SELECT id, t::text FROM public.chat_messages t WHERE id = ANY(%s) ORDER BY id",
            [[row[0] for row in before]],
        ).fetchall()
        assert after == before


def test_second_merge_inserts_nothing(merged) -> None:
    conn, first, database = merged
    before = conn.execute("SELECT count(*) FROM public.chat_messages").fetchone()
    again = apply(database, "merge", batch_size=2)
    assert before == conn.execute("SELECT count(*) FROM public.chat_messages").fetchone()
    assert sum(run_counts(again).values()) == 0 and again.result.details["sequenced_sessions"] == 0
    assert totals(again) == totals(first)


@pytest.mark.parametrize(
    "capture_on, counts",
    [
        (True, {"messages.forwarded": 1, "messages.migrated": 1}),
        # Capture off (a merge resumed from before it existed): the sweep pass finds the row.
        (False, {"messages.migrated": 1}),
    ],
    ids=["captured and forwarded", "swept up behind the high-water mark"],
)
def test_rows_written_after_the_backfill_get_their_fate(merged, capture_on: bool, counts: dict) -> None:
    conn, _, database = merged
    if not capture_on:
        capture.remove(conn, CONFIG)
    conn.execute(
        "INSERT INTO public.messages (id, booking_id, sender_id, type, content, created_at) "
        "VALUES ('00000000-0000-0000-0000-000000000001', %s, %s, 'text', 'late', '2024-05-01')",
        [user("b1"), user("a1")],
    )
    if not capture_on:
        # merge turns capture back on before its batches; the row predates that.
        assert capture.state(conn, CONFIG).logged == 0
    again = apply(database, "merge")
    assert run_counts(again) == counts
    assert again.result.details["sequenced_sessions"] == 1


def test_merge_without_a_verified_backup_is_refused(small_world: LocalDatabase) -> None:
    with pytest.raises(PhaseOrderError, match="backup --apply"):
        run_merge(small_world, with_backup=False)
    with small_world.connect() as conn:
        assert conn.execute("SELECT count(*) FROM public.chat_messages").fetchone() == (4,)
        # A refused command writes nothing, not even the journal's schema.
        assert conn.execute("SELECT to_regnamespace('consolidation') IS NULL").fetchone() == (True,)
    forced = apply(small_world, "merge", force_order=True)
    assert totals(forced)["messages.migrated"] == 7


def test_resuming_with_another_configuration_is_refused(merged) -> None:
    conn, first, database = merged
    other = Config.model_validate({**CONFIG.model_dump(by_alias=True), "type_map": {"text": "text"}})
    with pytest.raises(UsageError, match="another configuration"):
        apply(database, "merge", config=other)
    again = apply(database, "merge")
    assert totals(again) == totals(first)


def _merge_seeded(
    database: LocalDatabase, *, workers: int, batch_size: int, pause_ratio: float | None = None
) -> Outcome:
    return run_merge(database, batch_size=batch_size, workers=workers, pause_ratio=pause_ratio)


def test_the_merge_takes_no_parallel_helpers_beyond_its_workers(legacy_db: LocalDatabase) -> None:
    # Two workers: what runs on the phase connection alone may take one parallel helper (the
    # other worker's share), never the server's default two; the progress count takes none and
    # leaves the session as it found it.
    with legacy_db.connect() as conn:
        setting = "SELECT current_setting('max_parallel_workers_per_gather')::int"
        assert conn.execute(setting).fetchone()[0] == 2
        merge.remaining(conn, CONFIG)
        assert conn.execute(setting).fetchone()[0] == 2
        merge.remaining(conn, CONFIG)
    # The driver's connection is the phase connection: watch it through a merge of its own.
    apply(legacy_db, "backup")
    with legacy_db.connect() as conn:
        ctx = driver.context(conn, CONFIG, legacy_db.url, environment=legacy_db.environment(), workers=2)
        driver.apply_phase("merge", ctx)
        assert conn.execute(setting).fetchone()[0] == 1


def test_a_paced_merge_idles_between_batches_and_ends_in_the_same_state(
    local_cluster: LocalCluster, legacy_template: LocalDatabase
) -> None:
    # The live-app pace: one worker that idles as long as each batch took. Same rows, fates,
    # links, sessions, sequences and keyset positions as the same merge at full pace.
    full = local_cluster.create("merge_full_pace", template=legacy_template)
    paced = local_cluster.create("merge_paced", template=legacy_template)
    try:
        unpaused = _merge_seeded(full, workers=1, batch_size=300)
        started = time.perf_counter()
        result = _merge_seeded(paced, workers=1, batch_size=300, pause_ratio=1.0)
        elapsed = time.perf_counter() - started
        assert unpaused.result.details["paused_seconds"] == 0
        assert result.result.details["batches"] == unpaused.result.details["batches"] > 3
        assert 0 < result.result.details["paused_seconds"] < elapsed
        with paced.connect() as conn:
            details = conn.execute(
                "SELECT details FROM consolidation.phase_records WHERE phase = 'merge' AND action = 'apply'"
            ).fetchone()[0]
        assert details["pause_ratio"] == 1.0 and details["paused_seconds"] > 0
        assert faults.compare(faults.fingerprint(full), faults.fingerprint(paced)) == []
    finally:
        local_cluster.drop(full)
        local_cluster.drop(paced)


def test_the_outcome_does_not_depend_on_workers_or_batch_boundaries(
    local_cluster: LocalCluster, legacy_template: LocalDatabase
) -> None:
    # One worker in large batches against three workers in small ones: the same rows, fates,
    # links, sessions and sequences (batch numbers aside, which name when, not what).
    alone = local_cluster.create("merge_one_worker", template=legacy_template)
    side_by_side = local_cluster.create("merge_three_workers", template=legacy_template)
    try:
        _merge_seeded(alone, workers=1, batch_size=5000)
        result = _merge_seeded(side_by_side, workers=3, batch_size=40)
        assert result.result.details["workers"] == 3 and result.result.details["batches"] > 3
        with side_by_side.connect() as conn:
            parts = conn.execute(
                "SELECT source_table, count(*) FROM consolidation.high_water GROUP BY 1 ORDER BY 1"
            ).fetchall()
            linked = conn.execute(
                "SELECT count(*) FROM consolidation.provenance WHERE fate = 'linked'"
            ).fetchone()
        assert parts == [("messages", 3), ("voice_notes", 3)]
        assert linked[0] > 0, "the seeded data has dual-written rows to link"
        differences = faults.compare(faults.fingerprint(alone), faults.fingerprint(side_by_side))
        # Only the keyset positions differ: one part per worker.
        assert [d.surface for d in differences] == ["consolidation.high_water"]
    finally:
        local_cluster.drop(alone)
        local_cluster.drop(side_by_side)


def test_a_legacy_duplicate_does_not_take_its_twins_chat_message(small_world: LocalDatabase) -> None:
    # Message 14 repeats 13 (same session, sender, time and content), and the app wrote one chat
    # message for them: the link plan gives it to the lower id, whichever worker meets 14 first.
    with small_world.connect() as conn:
        conn.execute(
            "INSERT INTO public.messages (id, booking_id, sender_id, type, content, metadata, created_at) "
            "SELECT '00000000-0000-0000-0001-000000000014', booking_id, sender_id, type, content, metadata, "
            "created_at FROM public.messages WHERE id = '00000000-0000-0000-0001-000000000013'"
        )
        run_merge(small_world, batch_size=1, workers=3)
        twin = uuid.UUID("00000000-0000-0000-0003-000000000003")
        assert fate_of(conn, "messages", "00000000-0000-0000-0001-000000000013") == [("linked", None, twin)]
        duplicate = uuid.UUID("00000000-0000-0000-0001-000000000014")
        own_id = message_id(CONFIG.session_rule.direct_namespace, "messages", duplicate)
        assert fate_of(conn, "messages", str(duplicate)) == [("migrated", None, own_id)]


# --- legacy data the hand-built world lacks (edge_cases.sql), under both created_at fates ------

EDGE = tomllib.loads((FIXTURES / "edge_expected.toml").read_text())["messages"]
FALLBACK = Config.model_validate({"merge": {"missing_created_at": "booking_created_at"}})
CONFIGS = {"quarantine": CONFIG, "booking_created_at": FALLBACK}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def edge_merged(request, local_cluster: LocalCluster) -> tuple[psycopg.Connection, Config, str]:
    """The hand-built world plus edge_cases.sql, merged once per missing_created_at fate."""
    config = CONFIGS[request.param]
    database = local_cluster.create(f"merge_edge_{request.param}")
    try:
        load_hand_built(database)
        with database.connect() as conn:
            conn.execute((FIXTURES / "edge_cases.sql").read_text())
        apply(database, "backup", config=config)
        apply(database, "merge", config=config, batch_size=3)
        with database.connect() as conn:
            yield conn, config, request.param
    finally:
        local_cluster.drop(database)


@pytest.mark.parametrize("source_id", sorted(EDGE), ids=[key[-3:] for key in sorted(EDGE)])
def test_edge_rows_get_their_fate_and_sessions_their_participants(edge_merged, source_id: str) -> None:
    conn, config, fate_of_missing = edge_merged
    expected = EDGE[source_id]
    if fate_of_missing == "booking_created_at" and "fallback" in expected:
        expected = expected["fallback"]
    fates = fate_of(conn, "messages", source_id)
    assert len(fates) == 1, fates
    fate, reason, chat_message_id = fates[0]
    assert (fate, reason) == (expected["fate"], expected.get("reason"))
    if fate != "migrated":
        return
    session_id, kind, created_at = conn.execute(
        "SELECT session_id, type, created_at::text FROM public.chat_messages WHERE id = %s", [chat_message_id]
    ).fetchone()
    assert session_id == expected_session(expected["session"])
    assert kind == expected.get("type", kind)
    assert created_at == expected.get("created_at", created_at) and created_at is not None
    participants = conn.execute(
        "SELECT participants FROM public.chat_sessions WHERE id = %s", [session_id]
    ).fetchone()[0]
    assert None not in participants and len(set(participants)) == len(participants)
    if "participants" in expected:
        assert participants == [user(short) for short in expected["participants"]]


def test_edge_rows_verify_clean(edge_merged) -> None:
    conn, config, _ = edge_merged
    report = verify.run(conn, config)
    assert report.clean, report.findings
    assert report.totals["messages.quarantined.missing_created_at"] == (
        2 if config.merge.missing_created_at == "quarantine" else 1
    )


def test_a_row_the_database_refuses_is_quarantined_with_its_error_and_the_rest_merge(
    small_world: LocalDatabase,
) -> None:
    # The app's chat_messages refuses content of 20 characters or more (a constraint production
    # has and the mapping does not know of): the batch holding such a row must not be given up.
    with small_world.connect() as conn:
        conn.execute(
            "ALTER TABLE public.chat_messages ADD CONSTRAINT short_content "
            "CHECK (content IS NULL OR length(content) < 20)"
        )
        poison = "00000000-0000-0000-0001-000000000014"
        conn.execute(
            "INSERT INTO public.messages (id, booking_id, sender_id, type, content, created_at) "
            "VALUES (%s, %s, %s, 'text', 'far too long for the app to take', '2024-01-01 10:01:00+00')",
            [poison, user("b1"), user("a1")],
        )
        first = run_merge(small_world, batch_size=50)
        [(fate, reason, _)] = fate_of(conn, "messages", poison)
        assert (fate, reason) == ("quarantined", "merge_error")
        detail = conn.execute(
            "SELECT detail FROM consolidation.quarantine WHERE source_id = %s", [poison]
        ).fetchone()[0]
        assert "SQLSTATE 23514" in detail and "short_content" in detail and "060_insert_messages" in detail
        # Every other row has the fate the hand-built table gives it.
        for source, source_id, expected in CASES:
            [(fate, reason, _)] = fate_of(conn, source, source_id)
            assert (fate, reason) == (expected["fate"], expected.get("reason")), source_id
        assert run_counts(first)["messages.quarantined.merge_error"] == 1
        assert verify.run(conn, CONFIG).clean
        # A re-run finds nothing left to do.
        again = apply(small_world, "merge", batch_size=50)
        assert sum(run_counts(again).values()) == 0 and totals(again) == totals(first)

        # Written later, captured and forwarded: the same fate, and the rows beside it go on.
        late_poison = "00000000-0000-0000-0000-000000000002"
        late_fine = "00000000-0000-0000-0000-000000000003"
        conn.execute(
            "INSERT INTO public.messages (id, booking_id, sender_id, type, content, created_at) VALUES "
            "(%s, %s, %s, 'text', 'still far too long for it', '2024-05-01'), "
            "(%s, %s, %s, 'text', 'short', '2024-05-02')",
            [late_poison, user("b1"), user("a1"), late_fine, user("b1"), user("a3")],
        )
        forwarded = apply(small_world, "merge", batch_size=50)
        assert run_counts(forwarded)["messages.quarantined.merge_error"] == 1
        assert [row[:2] for row in fate_of(conn, "messages", late_poison)] == [("quarantined", "merge_error")]
        assert [row[0] for row in fate_of(conn, "messages", late_fine)] == ["migrated"]
        assert verify.run(conn, CONFIG).clean
