"""The local stack's store as a backend: LocalStore's rows and files, one connection per worker thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from consolidation.storage_migration.backends.base import Copied, CopyOrder, ObjectInfo
from consolidation.storage_migration.local_store import LocalStore


class LocalBackend:
    """Objects in storage.objects + the file-backend layout under ROOT, safe to share across threads.

    A LocalStore runs its changes in transactions on its connection, so each thread that uses
    the backend gets a store (and a connection) of its own.
    """

    def __init__(self, database_url: str, root: Path, *, concurrency: int = 8) -> None:
        self.database_url = database_url
        self.concurrency = concurrency
        self.root = Path(root)
        self._local = threading.local()
        self._stores: list[LocalStore] = []
        self._lock = threading.Lock()

    @property
    def store(self) -> LocalStore:
        found = getattr(self._local, "store", None)
        if found is None:
            found = LocalStore(self.database_url, self.root)
            self._local.store = found
            with self._lock:
                self._stores.append(found)
        return found

    def close(self) -> None:
        with self._lock:
            for store in self._stores:
                store.close()
            self._stores.clear()
        self._local = threading.local()

    def info(self, bucket: str, name: str) -> ObjectInfo | None:
        return self.store.info(bucket, name)

    def readable(self, name: str) -> bool:
        return True

    def read(self, bucket: str, name: str) -> bytes:
        return self.store.get(bucket, name)

    def stream(self, bucket: str, name: str) -> Iterator[bytes]:
        return self.store.stream(bucket, name)

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        self.store.put(bucket, name, data, content_type)

    def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        self.store.copy(bucket, name, to_bucket, to_name)

    def copy_many(self, orders: Sequence[CopyOrder]) -> list[Copied | Exception]:
        return self.store.copy_many(orders, workers=self.concurrency)

    def move(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        self.store.move(bucket, name, to_bucket, to_name)

    def remove(self, bucket: str, names: list[str]) -> None:
        self.store.remove(bucket, names, workers=self.concurrency)

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        # Materialised so the cursor is done before the caller uses the same thread's store.
        return iter(list(self.store.list(bucket, prefix)))
