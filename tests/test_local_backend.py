"""Local backend: the StorageBackend verbs over the local stack's store, shared by worker threads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from consolidation.storage_migration.backends.base import StorageBackend
from consolidation.storage_migration.backends.local import LocalBackend

from consolidation.pytest_plugin import LocalDatabase, apply_legacy_schema

DATA = b"hello, chat files"


@pytest.fixture
def backend(empty_db: LocalDatabase) -> Iterator[LocalBackend]:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
    local = LocalBackend(empty_db.url, empty_db.store_root)
    local.write("chat-attachments", "u1/a.txt", DATA, "text/plain")
    yield local
    local.close()


def _copy(backend: StorageBackend) -> None:
    backend.copy("chat-attachments", "u1/a.txt", "chat-files", "s/u/a.txt")


def _move(backend: StorageBackend) -> None:
    backend.move("chat-attachments", "u1/a.txt", "chat-files", "s/u/a.txt")


def _remove(backend: StorageBackend) -> None:
    backend.remove("chat-attachments", ["u1/a.txt", "u1/never-existed.txt"])


def _overwrite(backend: StorageBackend) -> None:
    backend.write("chat-attachments", "u1/a.txt", b"second version", "text/plain")


# (verb, objects afterwards: {(bucket, name): bytes})
CASES = [
    (_copy, {("chat-attachments", "u1/a.txt"): DATA, ("chat-files", "s/u/a.txt"): DATA}),
    (_move, {("chat-files", "s/u/a.txt"): DATA}),
    (_remove, {}),
    (_overwrite, {("chat-attachments", "u1/a.txt"): b"second version"}),
]


@pytest.mark.parametrize(("verb", "expected"), CASES, ids=[case[0].__name__.strip("_") for case in CASES])
def test_verbs(backend: LocalBackend, verb, expected: dict[tuple[str, str], bytes]) -> None:  # noqa: ANN001
    verb(backend)
    listed = {
        (bucket, info.name): backend.read(bucket, info.name)
        for bucket in ("chat-attachments", "chat-files")
        for info in backend.list(bucket)
    }
    assert listed == expected
    for (bucket, name), data in expected.items():
        info = backend.info(bucket, name)
        assert info is not None and info.size == len(data)
        assert info.etag == hashlib.md5(data).hexdigest() and info.content_type == "text/plain"
    assert backend.info("chat-attachments", "u1/missing.txt") is None


def test_copy_onto_an_existing_object_is_refused(backend: LocalBackend) -> None:
    _copy(backend)
    with pytest.raises(FileExistsError):
        _copy(backend)


def test_worker_threads_each_get_their_own_connection(backend: LocalBackend) -> None:
    names = [f"s/u/{number}.txt" for number in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: backend.copy("chat-attachments", "u1/a.txt", "chat-files", name), names))
        assert list(pool.map(lambda name: backend.read("chat-files", name), names)) == [DATA] * 16
    assert [info.name for info in backend.list("chat-files", "s/u")] == sorted(names)


def test_copies_resumed_side_by_side_sweep_their_leftovers_without_tripping_each_other(
    backend: LocalBackend,
) -> None:
    # A killed run left half-written copies: the first file of each session folder. Resumed by
    # worker threads, one copy sweeps its leftover while another creates its folder next to it.
    folders = [f"s{number}/u" for number in range(100)]
    for folder in folders:
        leftover = backend.store.file_path("chat-files", f"{folder}/0.txt", "killed")
        leftover.parent.mkdir(parents=True)
        leftover.write_bytes(b"half a co")
    names = [f"{folder}/{leaf}.txt" for folder in folders for leaf in (0, 1)]
    for name in names:
        backend.write("chat-attachments", name, DATA, "text/plain")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: backend.copy("chat-attachments", name, "chat-files", name), names))
    files = [path.parent.name for path in (backend.store.base / "chat-files").rglob("*") if path.is_file()]
    assert sorted(files) == sorted(name.rpartition("/")[2] for name in names)
