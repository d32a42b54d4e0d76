"""Storage transfer: plan writes nothing; apply moves, rewrites, deletes verified sources; rollback."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import build_hand_built, consolidate, fixture_objects, store_state
from consolidation.storage_migration.backends.local import LocalBackend
from consolidation.storage_migration.references import disambiguated_name
from psycopg import sql

from consolidation.core.config import Config, Storage
from consolidation.core.db import table_checksum
from consolidation.phases import storage_transfer as transfer
from consolidation.pytest_plugin import LocalDatabase

FIXTURES = Path(__file__).parent / "fixtures/storage"
CONFIG = Config()
S1, S2 = "10000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000002"
U1, U2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
PUBLIC = "http://127.0.0.1:54321/storage/v1/object/public/"
PHOTO_TWO = disambiguated_name("photo.jpg", "chat-attachments/u1/k2/photo.jpg")
REPORT_S2 = disambiguated_name("report.pdf", "chat-attachments/u1/k4/report.pdf")
Fixture = tuple[psycopg.Connection, LocalBackend]

# (table, row, column or JSON path, value after apply). Rows not listed keep their value. The
# target bucket is private: every form becomes its bucket path (storage.reference_forms).
EXPECTED_REFERENCES = [
    ("chat_messages", 1, "file_url", f"chat-files/{S1}/{U1}/photo.jpg"),
    ("chat_messages", 1, "metadata.attachments.0.url", f"chat-files/{S1}/{U1}/photo.jpg"),
    ("chat_messages", 1, "metadata.thumbnail_url", f"chat-files/{S1}/{U1}/photo.jpg"),
    ("chat_messages", 2, "file_url", f"chat-files/{S1}/{U1}/{PHOTO_TWO}"),
    # a signed URL is bound to its old path: it becomes the configured style, not a new URL
    ("chat_messages", 3, "file_url", f"chat-files/{S2}/{U2}/voice note e.m4a"),
    ("voice_notes", 1, "file_url", f"chat-files/{S2}/{U2}/voice note e.m4a"),
    ("chat_messages", 4, "file_url", f"chat-files/{S1}/{U1}/report.pdf"),
    ("chat_messages", 5, "file_url", f"chat-files/{S2}/{U1}/{REPORT_S2}"),
    ("chat_messages", 6, "file_url", f"chat-files/{S1}/{U1}/secret.txt"),
    ("chat_messages", 7, "file_url", f"{PUBLIC}chat-attachments/u1/k9/gone.jpg"),
    ("chat_messages", 8, "file_url",
     "https://otherproject.supabase.co/storage/v1/object/public/chat-attachments/u1/k1/photo.jpg"),
    ("chat_messages", 9, "file_url", f"chat-files/{S1}/{U1}/empty.txt"),
    ("messages", 1, "file_url", f"chat-files/{S1}/{U1}/empty.txt"),
    ("messages", 2, "file_url", "chat-attachments/u2/k6/quarantined.png"),
]
# (bucket, name, source object it holds, or None when it must be gone afterwards)
EXPECTED_OBJECTS = [
    ("chat-files", f"{S1}/{U1}/photo.jpg", ("chat-attachments", "u1/k1/photo.jpg")),
    ("chat-files", f"{S1}/{U1}/{PHOTO_TWO}", ("chat-attachments", "u1/k2/photo.jpg")),
    ("chat-files", f"{S2}/{U2}/voice note e.m4a", ("voice-notes", "u2/k3/voice note é.m4a")),
    ("chat-files", f"{S1}/{U1}/report.pdf", ("chat-attachments", "u1/k4/report.pdf")),
    ("chat-files", f"{S2}/{U1}/{REPORT_S2}", ("chat-attachments", "u1/k4/report.pdf")),
    ("chat-files", f"{S2}/{U1}/report.pdf", ("chat-files", f"{S2}/{U1}/report.pdf")),
    ("chat-files", f"{S1}/{U1}/secret.txt", ("chat-attachments", "u1/k5/..secret.txt")),
    ("chat-files", f"{S1}/{U1}/empty.txt", ("chat-attachments", "u1/k8/empty.txt")),
    ("chat-attachments", "u1/k1/photo.jpg", None),
    ("chat-attachments", "u1/k4/report.pdf", None),
    # Copied and its references rewritten, but kept: the Storage API could not write its key
    # back for a rollback.
    ("voice-notes", "u2/k3/voice note é.m4a", ("voice-notes", "u2/k3/voice note é.m4a")),
    ("chat-attachments", "u2/k6/quarantined.png", ("chat-attachments", "u2/k6/quarantined.png")),
    ("chat-attachments", "u2/k7/orphan.bin", ("chat-attachments", "u2/k7/orphan.bin")),
]


def row_id(table: str, number: int) -> str:
    prefix = {"messages": "2", "chat_messages": "3", "voice_notes": "4"}[table]
    return f"{prefix}0000000-0000-4000-8000-{number:012d}"


def reference(conn: psycopg.Connection, table: str, number: int, where: str) -> str | None:
    column, *path = where.split(".")
    row = conn.execute(
        sql.SQL("SELECT {} #>> %s::text[] FROM {} WHERE id = %s").format(
            sql.Identifier(column), sql.Identifier("public", table)
        )
        if path
        else sql.SQL("SELECT {} FROM {} WHERE id = %s").format(
            sql.Identifier(column), sql.Identifier("public", table)
        ),
        [path, row_id(table, number)] if path else [row_id(table, number)],
    ).fetchone()
    return row[0] if row else None


def table_state(conn: psycopg.Connection) -> dict[str, str]:
    return {
        name: table_checksum(conn, sql.Identifier("public", name)).digest
        for name in ("messages", "voice_notes", "chat_messages")
    }


@pytest.fixture
def hand_built(empty_db: LocalDatabase) -> Iterator[Fixture]:
    build_hand_built(empty_db)
    backend = LocalBackend(empty_db.url, empty_db.store_root)
    with empty_db.connect() as conn:
        yield conn, backend
    backend.close()


def test_plan_reports_everything_and_writes_nothing(hand_built: Fixture) -> None:
    conn, backend = hand_built
    before = (table_state(conn), store_state(backend))
    plan = transfer.build_plan(conn, CONFIG, backend, transfer.listed_inventory(conn, CONFIG, backend))
    assert (table_state(conn), store_state(backend)) == before
    assert conn.execute(
        "SELECT (SELECT count(*) FROM consolidation.storage_inventory)"
        " + (SELECT count(*) FROM consolidation.storage_transfers)"
        " + (SELECT count(*) FROM consolidation.storage_rewrites)"
    ).fetchone()[0] == 0
    assert plan.counts == {
        "legacy objects": 8,
        "copies (all)": 7,
        "copies to make": 7,
        "references to rewrite": 11,
        "references to missing objects (left unchanged)": 1,
        "references to other hosts or projects (left alone)": 1,
        "objects kept for rows outside the chat": 1,
        "unreferenced objects": 1,
        "references to objects no copy of can be proved (left in place)": 0,
        "sources kept (keys the Storage API cannot restore)": 1,
    }
    assert [found.site.raw.rsplit("/", 1)[-1] for found in plan.missing] == ["gone.jpg"]
    assert "otherproject.supabase.co" in plan.foreign[0].reason


def test_apply_moves_rewrites_and_deletes_only_verified_sources(
    hand_built: Fixture,
) -> None:
    conn, backend = hand_built
    sources = {key: hashlib.sha256(data).hexdigest() for key, (data, _) in fixture_objects().items()}
    result = transfer.apply(conn, CONFIG, backend)
    assert result.failed == []
    for table, number, where, expected in EXPECTED_REFERENCES:
        assert reference(conn, table, number, where) == expected, (table, number, where)
    state = store_state(backend)
    for bucket, name, holds in EXPECTED_OBJECTS:
        assert state.get((bucket, name)) == (sources[holds] if holds else None), (bucket, name)
    assert transfer.verify(conn, CONFIG, backend).clean

    before = (table_state(conn), store_state(backend))
    again = transfer.apply(conn, CONFIG, backend)
    assert (table_state(conn), store_state(backend)) == before
    assert again.counts["copies to make"] == again.counts["references to rewrite"] == 0
    assert again.counts["sources deleted (this run)"] == 0


@pytest.mark.parametrize(
    ("storage", "kept", "moved"),
    [
        (Storage(keep_sources=True), {("chat-attachments", "u1/k1/photo.jpg")}, set()),
        (Storage(move_unreferenced=True), set(),
         {("chat-files", "unreferenced/chat-attachments/u2/k7/orphan.bin")}),
    ],
    ids=["keep_sources", "move_unreferenced"],
)
def test_storage_options(
    hand_built: Fixture,
    storage: Storage,
    kept: set[tuple[str, str]],
    moved: set[tuple[str, str]],
) -> None:
    conn, backend = hand_built
    config = Config(storage=storage)
    transfer.apply(conn, config, backend)
    state = store_state(backend)
    assert kept <= state.keys() and moved <= state.keys()
    assert transfer.verify(conn, config, backend).clean
    if storage.move_unreferenced:
        assert ("chat-attachments", "u2/k7/orphan.bin") not in state


def _corrupt_copy(conn: psycopg.Connection, backend: LocalBackend) -> None:
    backend.write("chat-files", f"{S1}/{U1}/photo.jpg", b"not the photo", "image/jpeg")


def _delete_copy(conn: psycopg.Connection, backend: LocalBackend) -> None:
    backend.remove("chat-files", [f"{S1}/{U1}/secret.txt"])


def _reference_legacy_again(conn: psycopg.Connection, backend: LocalBackend) -> None:
    conn.execute("UPDATE public.chat_messages SET file_url = 'chat-attachments/u2/k7/orphan.bin' "
                 "WHERE id = %s", [row_id("chat_messages", 2)])


@pytest.mark.parametrize(
    ("damage", "check"),
    [(_corrupt_copy, "unresolved"), (_delete_copy, "unresolved"), (_reference_legacy_again, "not_migrated")],
    ids=["corrupt_copy", "deleted_copy", "legacy_reference"],
)
def test_verify_catches_damage(hand_built: Fixture, damage: Callable[..., None], check: str) -> None:
    conn, backend = hand_built
    transfer.apply(conn, CONFIG, backend)
    damage(conn, backend)
    report = transfer.verify(conn, CONFIG, backend)
    assert report.findings and {finding.check for finding in report.findings} == {check}


def test_rollback_restores_references_and_objects(hand_built: Fixture) -> None:
    conn, backend = hand_built
    before = (table_state(conn), store_state(backend))
    transfer.apply(conn, CONFIG, backend)
    counts = transfer.rollback(conn, CONFIG, backend)
    assert (table_state(conn), store_state(backend)) == before
    # Six sources were moved; the one with a key the API cannot write was never deleted.
    assert counts["sources restored"] == 5 and counts["references restored"] == 11
    assert transfer.load_transfers(conn, CONFIG) == []
    transfer.apply(conn, CONFIG, backend)
    assert transfer.verify(conn, CONFIG, backend).clean


# Metadata as text: the seed's is nested 1,000 deep, deeper than Python's JSON parser goes.
CURRENT_REFERENCES = """
SELECT 'chat_messages', id, file_url, metadata::text FROM public.chat_messages
UNION ALL SELECT 'messages', id, file_url, metadata::text FROM public.messages ORDER BY 1, 2
"""
# The references as they read before the move, seen through the journal.
ORIGINAL_REFERENCES = """
SELECT 'chat_messages', id, consolidation.storage_original_text('chat_messages', id, 'file_url', file_url),
       consolidation.storage_original_json('chat_messages', id, 'metadata', metadata)::text
FROM public.chat_messages
UNION ALL
SELECT 'messages', id, consolidation.storage_original_text('messages', id, 'file_url', file_url),
       consolidation.storage_original_json('messages', id, 'metadata', metadata)::text
FROM public.messages
ORDER BY 1, 2
"""


def test_seeded_stack_plan_apply_verify_rerun_rollback(legacy_db: LocalDatabase) -> None:
    from conftest import apply, rollback

    from consolidation.phases import driver, storage, verify

    backend = LocalBackend(legacy_db.url, legacy_db.store_root)
    apply(legacy_db, "backup")
    apply(legacy_db, "merge")
    with legacy_db.connect() as conn:
        before = (table_state(conn), store_state(backend))
        originals = conn.execute(CURRENT_REFERENCES).fetchall()
        ctx = driver.context(conn, CONFIG, legacy_db.url, environment=legacy_db.environment())
        planned = driver.preview(storage.Storage(), ctx).state["plan"]
        assert planned.new_transfers and planned.missing and planned.foreign
        assert (table_state(conn), store_state(backend)) == before
        done = apply(legacy_db, "storage")
        assert done.report.clean, done.report.findings[:5]
        # Its own rewrites of legacy rows are no changes for merge to forward.
        assert conn.execute(
            "SELECT count(*) FROM consolidation.capture_log WHERE forwarded_at IS NULL"
        ).fetchone() == (0,)
        after = (table_state(conn), store_state(backend))
        assert before != after
        assert conn.execute(ORIGINAL_REFERENCES).fetchall() == originals
        # Merge's row-by-row proof still holds: it sees through the storage phase's rewrites.
        merged = verify.run(conn, CONFIG)
        assert merged.clean, merged.findings[:5]
        again = apply(legacy_db, "storage")
        assert again.noop and (table_state(conn), store_state(backend)) == after
        rollback(legacy_db, "storage")
        assert (table_state(conn), store_state(backend)) == before
    backend.close()


# --- references in every JSON shape, refused rewrites, the forms readers need -------------------

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
PHOTO_ONE = f"{PUBLIC}chat-attachments/u1/k1/photo.jpg"


def add_chat_message(conn: psycopg.Connection, number: int, *, file_url: str | None = None,
                     metadata: str = "{}") -> None:
    """One more chat message of U1 in S1 (numbered like the fixture's), METADATA as JSON text."""
    conn.execute(
        "INSERT INTO public.chat_messages (id, session_id, sender_id, type, file_url, metadata) "
        "VALUES (%s, %s, %s, 'file', %s, %s::jsonb)",
        [row_id("chat_messages", number), S1, U1, file_url, metadata],
    )


def metadata_of(conn: psycopg.Connection, number: int) -> tuple[str, str]:
    """(jsonb_typeof, text) of a chat message's metadata, read as text (never parsed in Python)."""
    return conn.execute(
        "SELECT jsonb_typeof(metadata), metadata::text FROM public.chat_messages WHERE id = %s",
        [row_id("chat_messages", number)],
    ).fetchone()


def test_top_level_json_values_are_references_like_any_other(hand_built: Fixture) -> None:
    conn, backend = hand_built
    shapes = {
        11: json.dumps(PHOTO_ONE),
        12: "42",
        13: "true",
        14: "null",
        15: json.dumps(["caption", PHOTO_ONE, {"again": "chat-attachments/u1/k1/photo.jpg"}]),
    }
    for number, metadata in shapes.items():
        add_chat_message(conn, number, metadata=metadata)
    before = table_state(conn)
    result = transfer.apply(conn, CONFIG, backend)
    assert result.refused == [] and result.failed == []
    moved = f"chat-files/{S1}/{U1}/photo.jpg"
    # Rewritten in place, and still a JSON string.
    assert metadata_of(conn, 11) == ("string", json.dumps(moved))
    for number, kind in ((12, "number"), (13, "boolean"), (14, "null")):
        assert metadata_of(conn, number) == (kind, shapes[number])
    assert metadata_of(conn, 15) == ("array", json.dumps(["caption", moved, {"again": moved}]))
    assert transfer.verify(conn, CONFIG, backend).clean
    after = table_state(conn)
    transfer.apply(conn, CONFIG, backend)
    assert table_state(conn) == after
    transfer.rollback(conn, CONFIG, backend)
    assert table_state(conn) == before


def _nested(depth: int, leaf: str) -> str:
    """JSON text DEPTH levels deep (objects and arrays in turn) around the string LEAF."""
    opening = "".join('{"level": ' if level % 2 == 0 else "[0, " for level in range(depth))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth)))
    return opening + json.dumps(leaf) + closing


def test_json_of_any_depth_is_walked_through_the_command(empty_db: LocalDatabase) -> None:
    build_hand_built(empty_db)
    with empty_db.connect() as conn:
        add_chat_message(conn, 11, metadata=_nested(1000, PHOTO_ONE))
    for command in (("plan",), ("--apply", "--force-order"), ("verify",)):
        done = consolidate(empty_db, "storage", *command)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
    with empty_db.connect() as conn:
        assert metadata_of(conn, 11)[1] == _nested(1000, f"chat-files/{S1}/{U1}/photo.jpg")
        depth = conn.execute(
            "SELECT cardinality(json_path) FROM consolidation.storage_rewrites WHERE row_id = %s",
            [row_id("chat_messages", 11)],
        ).fetchone()
        assert depth == (1000,)


def test_a_refused_rewrite_is_recorded_and_never_undoes_its_batch(hand_built: Fixture) -> None:
    conn, backend = hand_built
    # A trigger of the app's that refuses any change to one row (row 2): its rewrite fails, and
    # the other rewrites of its batch must still be made.
    conn.execute(
        "CREATE FUNCTION public.refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'row % is read-only', OLD.id; END $$;"
        "CREATE TRIGGER read_only BEFORE UPDATE ON public.chat_messages FOR EACH ROW "
        f"WHEN (OLD.id = '{row_id('chat_messages', 2)}') EXECUTE FUNCTION public.refuse_row()"
    )
    first = transfer.apply(conn, CONFIG, backend)
    [refused] = first.refused
    assert refused.check == "rewrite_failed" and "SQLSTATE P0001" in refused.detail
    assert row_id("chat_messages", 2) in refused.where
    for table, number, where, expected in EXPECTED_REFERENCES:
        if (table, number) == ("chat_messages", 2):
            expected = "chat-attachments/u1/k2/photo.jpg"
        assert reference(conn, table, number, where) == expected, (table, number, where)
    # The object it still names stays where it is.
    assert ("chat-attachments", "u1/k2/photo.jpg") in store_state(backend)
    report = transfer.verify(conn, CONFIG, backend)
    assert {finding.check for finding in report.findings} == {"rewrite_failed"}
    again = transfer.apply(conn, CONFIG, backend)
    assert len(again.refused) == 1 and again.counts["references rewritten (this run)"] == 0
    # Once the cause is gone, a re-run makes the rewrite and moves on.
    conn.execute("DROP TRIGGER read_only ON public.chat_messages")
    last = transfer.apply(conn, CONFIG, backend)
    assert last.refused == [] and last.counts["references rewritten (this run)"] == 1
    assert reference(conn, "chat_messages", 2, "file_url") == f"chat-files/{S1}/{U1}/{PHOTO_TWO}"
    assert ("chat-attachments", "u1/k2/photo.jpg") not in store_state(backend)
    assert transfer.verify(conn, CONFIG, backend).clean


def test_references_can_be_written_as_authenticated_urls(hand_built: Fixture) -> None:
    conn, backend = hand_built
    config = Config(storage=Storage(reference_forms=dict.fromkeys(
        ("public_url", "render_url", "signed_url"), "authenticated_url"
    )))
    transfer.apply(conn, config, backend)
    api = "http://127.0.0.1:54321/storage/v1"
    assert reference(conn, "chat_messages", 1, "file_url") == (
        f"{api}/object/authenticated/chat-files/{S1}/{U1}/photo.jpg"
    )
    assert reference(conn, "chat_messages", 1, "metadata.thumbnail_url") == (
        f"{api}/render/image/authenticated/chat-files/{S1}/{U1}/photo.jpg?width=320"
    )
    # A signed URL's token is never carried over; forms not named stay bucket paths.
    assert reference(conn, "chat_messages", 3, "file_url") == (
        f"{api}/object/authenticated/chat-files/{S2}/{U2}/voice%20note%20e.m4a"
    )
    assert reference(conn, "chat_messages", 2, "file_url") == f"chat-files/{S1}/{U1}/{PHOTO_TWO}"
    assert transfer.verify(conn, config, backend).clean


def test_verify_names_a_public_url_into_the_private_bucket(hand_built: Fixture) -> None:
    conn, backend = hand_built
    transfer.apply(conn, CONFIG, backend)
    conn.execute(
        "UPDATE public.chat_messages SET file_url = %s WHERE id = %s",
        [f"{PUBLIC}chat-files/{S2}/{U1}/report.pdf", row_id("chat_messages", 10)],
    )
    report = transfer.verify(conn, CONFIG, backend)
    [finding] = report.findings
    assert finding.check == "unreadable_form" and "400" in finding.detail


def test_long_references_are_handled_and_shown_shortened(hand_built: Fixture) -> None:
    conn, backend = hand_built
    long_path = f"{PUBLIC}chat-attachments/u1/" + "é" * 100_000 + ".png"
    long_query = PHOTO_ONE + "?x=" + "a" * 100_000
    add_chat_message(conn, 11, file_url=long_path)
    add_chat_message(conn, 12, file_url=long_query)
    plan = transfer.build_plan(conn, CONFIG, backend, transfer.listed_inventory(conn, CONFIG, backend))
    [missing] = [found for found in plan.missing if found.site.raw == long_path]
    assert len(missing.reason) < 400
    transfer.apply(conn, CONFIG, backend)
    assert reference(conn, "chat_messages", 11, "file_url") == long_path
    assert reference(conn, "chat_messages", 12, "file_url") == f"chat-files/{S1}/{U1}/photo.jpg"
    # A finding about a long reference names it shortened.
    conn.execute("UPDATE public.chat_messages SET file_url = %s WHERE id = %s",
                 [f"chat-files/{S1}/" + "é" * 100_000, row_id("chat_messages", 2)])
    report = transfer.verify(conn, CONFIG, backend)
    assert [f.check for f in report.findings] == ["unresolved"]
    assert all(len(f.where) + len(f.detail) < 1000 for f in report.findings)


def test_a_reference_the_journal_refuses_is_left_alone_and_the_rest_move(hand_built: Fixture) -> None:
    conn, backend = hand_built
    # Should the database refuse to journal one planned rewrite (here a constraint that names it),
    # the plan is written row by row and that reference is left as it was, with the error.
    conn.execute(
        "ALTER TABLE consolidation.storage_rewrites ADD CONSTRAINT not_row_two "
        f"CHECK (row_id <> '{row_id('chat_messages', 2)}')"
    )
    result = transfer.apply(conn, CONFIG, backend)
    [refused] = result.refused
    assert refused.check == "plan_refused" and "not_row_two" in refused.detail
    assert reference(conn, "chat_messages", 2, "file_url") == "chat-attachments/u1/k2/photo.jpg"
    assert reference(conn, "chat_messages", 1, "file_url") == f"chat-files/{S1}/{U1}/photo.jpg"
    assert ("chat-attachments", "u1/k2/photo.jpg") in store_state(backend)
    assert {f.check for f in transfer.verify(conn, CONFIG, backend).findings} == {"not_migrated"}
