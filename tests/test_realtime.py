"""Realtime follows the switch: cut-over publishes the chat tables in supabase_realtime instead of
the legacy ones, its rollback restores the publication as it was, and the plan says so."""

from __future__ import annotations

import psycopg
import pytest
from conftest import apply, rollback

from consolidation.core.config import Config, parse_config
from consolidation.phases import driver, realtime
from consolidation.phases.registry import by_name
from consolidation.pytest_plugin import LocalDatabase

CONFIG = Config()


def published(conn: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "SELECT tablename::text FROM pg_publication_tables WHERE pubname = 'supabase_realtime' ORDER BY 1"
        )
    ]


@pytest.fixture
def merged(legacy_db: LocalDatabase) -> psycopg.Connection:
    with legacy_db.connect() as conn:
        # As hosted Supabase has it, and as the old app set it up: its messages stream to it, and
        # a table of the app's own that cut-over must leave alone.
        assert conn.execute(
            "SELECT count(*) FROM pg_publication WHERE pubname = 'supabase_realtime'"
        ).fetchone() == (1,)
        conn.execute("ALTER PUBLICATION supabase_realtime ADD TABLE public.messages, public.bookings")
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    with legacy_db.connect() as conn:
        yield conn


def test_cut_over_publishes_the_chat_tables_and_rollback_restores_the_publication(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    plan = driver.preview(by_name("cutover"), driver.context(merged, CONFIG, legacy_db.url))
    assert plan.counts["realtime publication now"] == "supabase_realtime: messages"
    assert [
        step.sql.strip().splitlines()[-1] for step in plan.steps if step.name.startswith("realtime: ")
    ] == [
        'ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"."chat_messages";',
        'ALTER PUBLICATION "supabase_realtime" ADD TABLE "public"."chat_sessions";',
        'ALTER PUBLICATION "supabase_realtime" DROP TABLE "public"."messages";',
    ]
    assert any(
        "streams chat_messages, chat_sessions and no longer messages, voice_notes" in n for n in plan.notes
    )

    cut = apply(legacy_db, "cutover", force_order=True)
    assert cut.report is not None and cut.report.clean, cut.report.findings
    assert published(merged) == ["bookings", "chat_messages", "chat_sessions"]
    assert cut.report.notes["realtime publication"] == "supabase_realtime: chat_messages, chat_sessions"

    # Someone puts a legacy table back: cut-over's verification says so.
    merged.execute("ALTER PUBLICATION supabase_realtime ADD TABLE public.voice_notes")
    report = by_name("cutover").verify(driver.context(merged, CONFIG, legacy_db.url))
    assert report.counts["realtime"] == 1
    merged.execute("ALTER PUBLICATION supabase_realtime DROP TABLE public.voice_notes")

    undone = rollback(legacy_db, "cutover")
    assert undone.result is not None
    assert undone.result.counts["realtime publication"] == "supabase_realtime: messages"
    assert published(merged) == ["bookings", "messages"]


def test_configured_off_the_publication_is_left_alone(
    merged: psycopg.Connection, legacy_db: LocalDatabase
) -> None:
    off = parse_config('[cutover]\nrealtime_publication = ""\n')
    assert realtime.standing(merged, off) is None
    cut = apply(legacy_db, "cutover", config=off, force_order=True)
    assert cut.report is not None and cut.report.clean
    assert published(merged) == ["bookings", "messages"]
    rollback(legacy_db, "cutover", config=off)
    assert published(merged) == ["bookings", "messages"]
