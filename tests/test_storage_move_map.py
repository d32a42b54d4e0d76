"""The storage plan as a reviewer signs it off: the move map's files and the "left alone" list."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

from conftest import build_hand_built, consolidate, fixture_objects

from consolidation.pytest_plugin import LocalDatabase

S1 = "10000000-0000-4000-8000-000000000001"
U1, U2 = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
PUBLIC = "http://127.0.0.1:54321/storage/v1/object/public/"
LEGACY_LOST, CHAT_LOST = "20000000-0000-4000-8000-000000000003", "30000000-0000-4000-8000-000000000011"
LOST = "chat-attachments/u1/k9/lost.png"


def add_lost_message_and_its_chat_copy(database: LocalDatabase) -> None:
    """A legacy message naming a missing object, and the chat message merge made of it."""
    with database.connect() as conn:
        conn.execute("INSERT INTO public.messages (id, sender_id, recipient_id, type, file_url) "
                     "VALUES (%s, %s, %s, 'file', %s)", [LEGACY_LOST, U1, U2, LOST])
        conn.execute("INSERT INTO public.chat_messages (id, session_id, sender_id, type, file_url) "
                     "VALUES (%s, %s, %s, 'file', %s)", [CHAT_LOST, S1, U1, LOST])
        conn.execute("INSERT INTO consolidation.provenance (source_table, source_id, chat_message_id, fate,"
                     " batch, source_checksum) VALUES ('messages', %s, %s, 'migrated', 1, '-')",
                     [LEGACY_LOST, CHAT_LOST])


def test_plan_out_writes_the_move_map_the_same_bytes_and_names_each_left_reference_once(
    empty_db: LocalDatabase, tmp_path: Path
) -> None:
    build_hand_built(empty_db)
    add_lost_message_and_its_chat_copy(empty_db)
    runs = [
        consolidate(empty_db, "storage", "plan", "--no-sql", "--out", str(tmp_path / folder))
        for folder in ("1", "2")
    ]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr

    names = ("moves.csv", "rewrites.csv", "move_map.json")
    first, second = ({name: (tmp_path / n / name).read_bytes() for name in names} for n in ("1", "2"))
    assert first == second
    objects = fixture_objects()
    moves = list(csv.DictReader(io.StringIO(first["moves.csv"].decode())))
    document = json.loads(first["move_map.json"])
    assert [{**move, "size": int(move["size"])} for move in moves] == document["moves"]
    assert len(moves) == 7
    for move in moves:
        data = objects[(move["source_bucket"], move["source_key"])][0]
        assert (int(move["size"]), move["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        assert move["dest_bucket"] == "chat-files"
    rewrites = list(csv.DictReader(io.StringIO(first["rewrites.csv"].decode())))
    assert len(rewrites) == len(document["rewrites"]) == 11
    assert {
        "table": "chat_messages", "id": "30000000-0000-4000-8000-000000000001", "column": "metadata",
        "json_path": '["attachments", "0", "url"]',
        "old_reference": f"{PUBLIC}chat-attachments/u1/k1/photo.jpg",
        "new_reference": f"chat-files/{S1}/{U1}/photo.jpg",
    } in rewrites

    left = [line for line in runs[0].stdout.splitlines() if line.startswith("note: left alone:")]
    assert [line for line in left if "lost.png" in line] == [
        f"note: left alone: messages {LEGACY_LOST} file_url (chat copy chat_messages {CHAT_LOST}): "
        f"{LOST} does not exist"
    ]
    assert [line for line in left if "gone.jpg" in line] == [
        "note: left alone: chat_messages 30000000-0000-4000-8000-000000000007 file_url: "
        "chat-attachments/u1/k9/gone.jpg does not exist"
    ]
    assert len(left) == 3
