"""The local stack's store: rows in storage.objects and bytes in the file backend's layout, kept in step."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from consolidation.storage_migration.local_store import LocalStore, NewObject

from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

BUCKET = "chat-attachments"
OTHER_BUCKET = "chat-files"


@pytest.fixture
def store(empty_db: LocalDatabase) -> Iterator[LocalStore]:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    with LocalStore(empty_db.url, empty_db.store_root) as local_store:
        yield local_store


def _files(store: LocalStore) -> set[str]:
    return {str(path.relative_to(store.root)) for path in store.root.rglob("*") if path.is_file()}


def _row(store: LocalStore, bucket: str, name: str) -> tuple | None:
    return store.conn.execute(
        "SELECT id, version, metadata, owner, owner_id, path_tokens FROM storage.objects "
        "WHERE bucket_id = %s AND name = %s",
        (bucket, name),
    ).fetchone()


def test_put_writes_the_row_and_the_file_as_the_storage_api_does(store: LocalStore) -> None:
    owner = uuid.uuid4()
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    name = "u1/2024 März/photo é.png"
    info = store.put(BUCKET, name, data, "image/png", owner=owner)

    _, version, metadata, row_owner, owner_id, path_tokens = _row(store, BUCKET, name)
    assert set(metadata) == {"eTag", "size", "mimetype", "cacheControl", "lastModified",
                             "contentLength", "httpStatusCode"}
    assert metadata["eTag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert (metadata["size"], metadata["contentLength"]) == (len(data), len(data))
    assert metadata["httpStatusCode"] == 200
    assert (metadata["mimetype"], metadata["cacheControl"]) == ("image/png", "max-age=3600")
    assert metadata["lastModified"].endswith("Z")
    assert (row_owner, owner_id, path_tokens) == (owner, str(owner), ["u1", "2024 März", "photo é.png"])
    assert _files(store) == {f"stub/stub/{BUCKET}/{name}/{version}"}
    assert (info.size, info.etag) == (len(data), hashlib.md5(data).hexdigest())
    assert store.get(BUCKET, name) == data
    assert store.info(BUCKET, name) == info
    assert store.exists(BUCKET, name)
    assert not store.exists(BUCKET, "u1/other.png")
    assert store.info(BUCKET, "u1/other.png") is None


def test_put_again_makes_a_new_version_and_drops_the_old_bytes(store: LocalStore) -> None:
    store.put(BUCKET, "a/file.txt", b"one", "text/plain")
    first_id, first_version, *_ = _row(store, BUCKET, "a/file.txt")
    store.put(BUCKET, "a/file.txt", b"two!", "text/plain")
    second_id, second_version, metadata, *_ = _row(store, BUCKET, "a/file.txt")

    assert (second_id, metadata["size"]) == (first_id, 4)
    assert second_version != first_version
    assert _files(store) == {f"stub/stub/{BUCKET}/a/file.txt/{second_version}"}
    assert store.get(BUCKET, "a/file.txt") == b"two!"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", ["s1/a.txt", "s1/sub/b.txt", "s10/c.txt"]),
        ("s1", ["s1/a.txt", "s1/sub/b.txt"]),
        ("s1/", ["s1/a.txt", "s1/sub/b.txt"]),
        ("s1/sub", ["s1/sub/b.txt"]),
        ("s2", []),
    ],
)
def test_list_walks_a_folder_and_below(store: LocalStore, prefix: str, expected: list[str]) -> None:
    for name in ("s10/c.txt", "s1/sub/b.txt", "s1/a.txt"):
        store.put(BUCKET, name, name.encode(), "text/plain")
    store.put(OTHER_BUCKET, "s1/elsewhere.txt", b"x", "text/plain")

    listed = list(store.list(BUCKET, prefix))

    assert [info.name for info in listed] == expected
    assert all(info.bucket == BUCKET and info.size == len(info.name) for info in listed)


def test_copy_keeps_the_source_and_refuses_an_existing_destination(store: LocalStore) -> None:
    store.put(BUCKET, "u1/a.pdf", b"%PDF-1.4 copy me", "application/pdf")
    store.copy(BUCKET, "u1/a.pdf", OTHER_BUCKET, "s1/u1/a.pdf")

    assert store.get(OTHER_BUCKET, "s1/u1/a.pdf") == store.get(BUCKET, "u1/a.pdf")
    assert store.info(OTHER_BUCKET, "s1/u1/a.pdf").etag == store.info(BUCKET, "u1/a.pdf").etag
    assert _row(store, OTHER_BUCKET, "s1/u1/a.pdf")[0] != _row(store, BUCKET, "u1/a.pdf")[0]
    with pytest.raises(FileExistsError):
        store.copy(BUCKET, "u1/a.pdf", OTHER_BUCKET, "s1/u1/a.pdf")
    with pytest.raises(FileNotFoundError):
        store.copy(BUCKET, "u1/missing.pdf", OTHER_BUCKET, "s1/u1/missing.pdf")


def test_move_carries_row_and_bytes_and_prunes_empty_folders(store: LocalStore) -> None:
    store.put(BUCKET, "u1/deep/voice.webm", b"\x1aE\xdf\xa3 voice", "audio/webm")
    object_id, version, *_ = _row(store, BUCKET, "u1/deep/voice.webm")

    store.move(BUCKET, "u1/deep/voice.webm", OTHER_BUCKET, "s1/u1/voice.webm")

    assert not store.exists(BUCKET, "u1/deep/voice.webm")
    assert _row(store, OTHER_BUCKET, "s1/u1/voice.webm")[:2] == (object_id, version)
    assert store.get(OTHER_BUCKET, "s1/u1/voice.webm") == b"\x1aE\xdf\xa3 voice"
    assert _files(store) == {f"stub/stub/{OTHER_BUCKET}/s1/u1/voice.webm/{version}"}
    assert not (store.base / BUCKET / "u1").exists()


def test_a_bare_delete_stays_blocked_and_remove_deletes_rows_and_files(store: LocalStore) -> None:
    store.put(BUCKET, "u1/a.txt", b"a", "text/plain")
    store.put(BUCKET, "u1/b.txt", b"b", "text/plain")

    store.remove(BUCKET, ["u1/a.txt", "u1/never-existed.txt"])

    assert not store.exists(BUCKET, "u1/a.txt")
    assert store.exists(BUCKET, "u1/b.txt")
    assert {path.split("/")[-2] for path in _files(store)} == {"b.txt"}
    # remove() lifted the protection for its own statement only: this session is protected again.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Direct deletion"):
        store.conn.execute("DELETE FROM storage.objects WHERE name = 'u1/b.txt'")
    assert store.exists(BUCKET, "u1/b.txt")


def test_names_that_climb_out_of_the_store_are_refused(store: LocalStore) -> None:
    with pytest.raises(ValueError, match="leaves the store"):
        store.put(BUCKET, "../../../escape.txt", b"x", "text/plain")
    assert _files(store) == set()


def test_put_many_writes_every_file_and_one_row_each(store: LocalStore) -> None:
    at = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    objects = [
        NewObject(id=uuid.UUID(int=i + 1), bucket=BUCKET, name=f"u{i % 3}/k{i}/f {i}.bin",
                  data=bytes([i]) * i, content_type="application/octet-stream",
                  version=str(uuid.UUID(int=1000 + i)), created_at=at)
        for i in range(25)
    ]

    assert store.put_many(objects) == 25

    for item in objects:
        info = store.info(item.bucket, item.name)
        assert (info.size, info.etag) == (len(item.data), hashlib.md5(item.data).hexdigest())
        assert store.get(item.bucket, item.name) == item.data
    assert store.conn.execute(
        "SELECT count(*) FROM storage.objects WHERE created_at = %s AND version IS NOT NULL", (at,)
    ).fetchone()[0] == 25


def _unmatched(store: LocalStore) -> tuple[set[str], set[str]]:
    """Files no row names, and rows whose file is missing: both empty when rows and bytes agree."""
    rows = store.conn.execute("SELECT bucket_id, name, version FROM storage.objects")
    named = {str(store.file_path(*row).relative_to(store.root)) for row in rows}
    return _files(store) - named, named - _files(store)


def _leave(store: LocalStore, bucket: str, name: str, version: str, data: bytes = b"left behind") -> None:
    path = store.file_path(bucket, name, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _version(store: LocalStore, bucket: str, name: str) -> str:
    return _row(store, bucket, name)[1]


def _drop_row(store: LocalStore, bucket: str, name: str) -> None:
    with store.conn.transaction():
        store.conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
        store.conn.execute("DELETE FROM storage.objects WHERE bucket_id = %s AND name = %s", (bucket, name))


SOURCE, DEST = (BUCKET, "u1/a.txt"), (OTHER_BUCKET, "s1/u1/a.txt")


def _moved_leaving_the_source_file(store: LocalStore) -> None:
    version, data = _version(store, *SOURCE), store.get(*SOURCE)
    store.move(*SOURCE, *DEST)
    _leave(store, *SOURCE, version, data)


def _put_leaving_the_old_version(store: LocalStore) -> None:
    version = _version(store, *SOURCE)
    store.put(*SOURCE, b"second", "text/plain")
    _leave(store, *SOURCE, version)


# (what a kill left, the change asked again, objects after): each state is what the change
# leaves when SIGKILLed between writing its bytes and committing its row, or between
# committing its row and removing the old bytes.
LEFTOVERS = {
    "copy killed after its file, before its row": (
        lambda s: _leave(s, *DEST, str(uuid.uuid4()), b"half a co"),
        lambda s: s.copy(*SOURCE, *DEST),
        {SOURCE, DEST},
    ),
    "move killed after its file, before its row": (
        lambda s: _leave(s, *DEST, _version(s, *SOURCE), s.get(*SOURCE)),
        lambda s: s.move(*SOURCE, *DEST),
        {DEST},
    ),
    "move killed after its row, before removing the source's file": (
        _moved_leaving_the_source_file,
        lambda s: s.move(*SOURCE, *DEST),
        {DEST},
    ),
    "remove killed after its rows, before its files": (
        lambda s: _drop_row(s, *SOURCE),
        lambda s: s.remove(SOURCE[0], [SOURCE[1]]),
        set(),
    ),
    "put killed after its file, before its row": (
        lambda s: _leave(s, *SOURCE, str(uuid.uuid4())),
        lambda s: s.put(*SOURCE, b"second", "text/plain"),
        {SOURCE},
    ),
    "put killed after its row, before removing the old version": (
        _put_leaving_the_old_version,
        lambda s: s.put(*SOURCE, b"third", "text/plain"),
        {SOURCE},
    ),
}


@pytest.mark.parametrize("case", list(LEFTOVERS))
def test_a_change_asked_again_after_a_kill_leaves_no_file_behind(store: LocalStore, case: str) -> None:
    killed, again, expected = LEFTOVERS[case]
    store.put(*SOURCE, b"first", "text/plain")
    # An object inside the destination's and the source's folders: a sweep must leave it alone.
    for bucket, name in (SOURCE, DEST):
        store.put(bucket, f"{name}/inside.txt", b"inside", "text/plain")
    killed(store)
    assert _unmatched(store)[0], "the kill left a file no row names"

    again(store)

    assert _unmatched(store) == (set(), set())
    names = {(row[0], row[1]) for row in store.conn.execute("SELECT bucket_id, name FROM storage.objects")}
    assert names == expected | {(SOURCE[0], f"{SOURCE[1]}/inside.txt"), (DEST[0], f"{DEST[1]}/inside.txt")}
