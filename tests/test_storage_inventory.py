"""Inventory and reference location: what the legacy buckets hold, and what each reference names."""

from __future__ import annotations

import uuid

import pytest
from consolidation.storage_migration.backends.local import LocalBackend
from consolidation.storage_migration.inventory import InventoryObject, ReferenceSite, locate, take_inventory

from consolidation.core.config import Config
from consolidation.phases import storage_transfer as transfer
from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

CONFIG = Config()
P = "http://127.0.0.1:54321/storage/v1/object"
INVENTORY = {
    key: InventoryObject(*key, 1, "0" * 64, None, None)
    for key in [
        ("chat-attachments", "u1/k/photo.jpg"),
        ("chat-attachments", "u1/k/my file é.pdf"),
        ("voice-notes", "u2/k/note.m4a"),
        ("chat-attachments", "both/x.bin"),
        ("voice-notes", "both/x.bin"),
    ]
}

# (raw, column, table the row comes from, kind, key it names)
CASES = [
    (f"{P}/public/chat-attachments/u1/k/photo.jpg", "file_url", None, "legacy",
     ("chat-attachments", "u1/k/photo.jpg")),
    (f"{P}/public/chat-attachments/u1/k/my%20file%20%C3%A9.pdf?download=1", "file_url", None, "legacy",
     ("chat-attachments", "u1/k/my file é.pdf")),
    (f"{P}/sign/voice-notes/u2/k/note.m4a?token=abc", "file_url", None, "legacy",
     ("voice-notes", "u2/k/note.m4a")),
    ("voice-notes/u2/k/note.m4a", "file_url", None, "legacy", ("voice-notes", "u2/k/note.m4a")),
    ("u2/k/note.m4a", "file_url", None, "legacy", ("voice-notes", "u2/k/note.m4a")),
    ("both/x.bin", "file_url", "voice_notes", "legacy", ("voice-notes", "both/x.bin")),
    ("both/x.bin", "file_url", "messages", "legacy", ("chat-attachments", "both/x.bin")),
    ("u1/k/gone.jpg", "file_url", "messages", "missing", ("chat-attachments", "u1/k/gone.jpg")),
    (f"{P}/public/chat-attachments/u1/k/gone.jpg", "file_url", None, "missing",
     ("chat-attachments", "u1/k/gone.jpg")),
    ("chat-files/s/u/a.jpg", "file_url", None, "target", ("chat-files", "s/u/a.jpg")),
    (f"{P}/public/avatars/u1.png", "file_url", None, "other_bucket", None),
    ("https://otherproject.supabase.co/storage/v1/object/public/chat-attachments/u1/k/photo.jpg", "file_url",
     None, "foreign", None),
    (f"{P}/public/chat-attachments/u1/k/photo.jpg", "metadata", None, "legacy",
     ("chat-attachments", "u1/k/photo.jpg")),
    # inside JSON only URLs and bucket/path strings are references; captions and names are not
    ("photo.jpg", "metadata", None, None, None),
    ("see you at 10", "metadata", None, None, None),
]


@pytest.mark.parametrize(("raw", "column", "context", "kind", "key"), CASES)
def test_locate(raw: str, column: str, context: str | None, kind: str | None, key: tuple | None) -> None:
    site = ReferenceSite("chat_messages", uuid.uuid4(), column, ("url",) if column == "metadata" else (),
                         raw, None, None, context)
    found = locate(site, CONFIG, INVENTORY)
    assert (found.kind, found.key) == (kind, key) if found else kind is None


def test_inventory_records_each_object_once(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        backend = LocalBackend(empty_db.url, empty_db.store_root)
        backend.write("chat-attachments", "u1/a.txt", b"abc", "text/plain")
        backend.write("voice-notes", "u2/b.m4a", b"", "audio/mp4")
        backend.write("chat-files", "s/u/c.txt", b"not legacy", "text/plain")
        transfer.install(conn, CONFIG)
        seen: list[int] = []
        inventory = take_inventory(conn, CONFIG, backend, on_progress=lambda files, size: seen.append(size))
        assert {key: (item.size, item.sha256[:8], item.content_type) for key, item in inventory.items()} == {
            ("chat-attachments", "u1/a.txt"): (3, "ba7816bf", "text/plain"),
            ("voice-notes", "u2/b.m4a"): (0, "e3b0c442", "audio/mp4"),
        }
        backend.write("chat-attachments", "u1/a.txt", b"changed later", "text/plain")
        seen.clear()
        again = take_inventory(conn, CONFIG, backend, on_progress=lambda files, size: seen.append(size))
        assert again == inventory
        assert seen == []
        backend.close()
