"""The local stack's object store: rows in storage.objects, bytes laid out as Storage's file backend has them.

An object's bytes live at <root>/<store bucket>/<tenant>/<bucket>/<object name>/<version>, and
its row carries the metadata the Storage API writes, so a Storage API server pointed at the same
database and folder serves the same objects. Every change writes the new bytes before the row
and removes old bytes only after the row is gone, so a crash leaves at most a file no row names,
in the folder of the object it changed; the next change of that object, under the object's lock,
sweeps it (a copy, move or remove asked again after a kill ends as if never interrupted).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from consolidation.storage_migration.backends.base import Copied, CopyOrder, ObjectInfo
from psycopg.types.json import Jsonb

from consolidation.core import sqlfiles

CACHE_CONTROL = "max-age=3600"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# The extended attributes Storage's file backend reads an object's headers from (Linux names).
_XATTR_CONTENT_TYPE = "user.supabase.content-type"
_XATTR_CACHE_CONTROL = "user.supabase.cache-control"
# Objects per round of the bulk path: bounds the bytes held in memory at once.
_BULK_CHUNK = 2000
# Bytes per read when an object is streamed: memory stays bounded whatever the object's size.
STREAM_CHUNK = 1 << 20


@dataclass(frozen=True)
class NewObject:
    """One object for the bulk path: everything its row and its file need, decided by the caller."""

    id: uuid.UUID
    bucket: str
    name: str
    data: bytes
    content_type: str
    version: str
    created_at: datetime
    owner: uuid.UUID | None = None


def storage_metadata(data: bytes, content_type: str, last_modified: datetime) -> dict[str, Any]:
    """storage.objects.metadata as the Storage API writes it after an upload."""
    return {
        "eTag": f'"{hashlib.md5(data).hexdigest()}"',
        "size": len(data),
        "mimetype": content_type,
        "cacheControl": CACHE_CONTROL,
        "lastModified": last_modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{last_modified.microsecond // 1000:03d}Z",
        "contentLength": len(data),
        "httpStatusCode": 200,
    }


class LocalStore:
    """Objects of the local stack: put/get/info/exists/list/copy/move/remove, and a bulk put."""

    def __init__(
        self,
        conn_or_url: psycopg.Connection | str,
        root: Path,
        store_bucket: str = "stub",
        tenant: str = "stub",
    ) -> None:
        if isinstance(conn_or_url, str):
            self.conn = psycopg.connect(conn_or_url, autocommit=True)
            self._owns_connection = True
        else:
            self.conn = conn_or_url
            self._owns_connection = False
        self.root = Path(root)
        self.base = self.root / store_bucket / tenant

    def close(self) -> None:
        if self._owns_connection:
            self.conn.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- layout ---------------------------------------------------------------------------

    def folder(self, bucket: str, name: str) -> Path:
        """The folder that holds the versions of BUCKET/NAME."""
        # Names are user data: no segment may climb out of (or alias within) the store. Checked
        # on the text, not with resolve(), which costs a syscall per folder level per object.
        for part in (bucket, *name.split("/")):
            if part in ("", ".", "..") or "\0" in part:
                raise ValueError(f"object {bucket}/{name} leaves the store")
        return self.base / bucket / name

    def file_path(self, bucket: str, name: str, version: str) -> Path:
        """Where the bytes of one version of BUCKET/NAME live."""
        if version in ("", ".", "..") or "/" in version or "\0" in version:
            raise ValueError(f"object {bucket}/{name} (version {version}) leaves the store")
        return self.folder(bucket, name) / version

    def _write_file(self, path: Path, data: bytes, content_type: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(descriptor, data)
            _set_headers(descriptor, content_type, CACHE_CONTROL)
        finally:
            os.close(descriptor)

    def _copy_file(self, source: Path, target: Path, content_type: str, cache_control: str) -> Copied:
        """Copy SOURCE's bytes to TARGET (its folder exists), hashing them as they pass: each byte
        read once."""
        digest, size = hashlib.sha256(), 0
        reading = os.open(source, os.O_RDONLY)
        try:
            writing = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                while chunk := os.read(reading, STREAM_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    _write_all(writing, chunk)
                _set_headers(writing, content_type, cache_control)
            finally:
                os.close(writing)
        finally:
            os.close(reading)
        return Copied(size, digest.hexdigest())

    def _prune(self, bucket: str, folder: Path) -> None:
        """Remove FOLDER and its parents up to the bucket while they are empty, as Storage's file
        backend prunes them."""
        stop = self.base / bucket
        while folder != stop:
            try:
                # rmdir refuses a folder that is not empty: no check-then-remove race with a
                # concurrent write creating its folder under the same parent.
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _remove_file(self, bucket: str, name: str, version: str | None) -> None:
        if version is None:
            return
        path = self.file_path(bucket, name, version)
        path.unlink(missing_ok=True)
        self._prune(bucket, path.parent)

    def _lock(self, *objects: tuple[str, str]) -> None:
        """Hold the OBJECTS' locks until the transaction ends (the caller runs one)."""
        keys = [f"{bucket}/{name}" for bucket, name in objects]
        self.conn.execute(sqlfiles.load("local_store/lock.sql"), {"objects": keys})

    def _sweep(self, bucket: str, name: str, keep: str | None) -> None:
        """Remove the files of BUCKET/NAME but its row's version KEEP (None: it has no row).

        Each change writes new bytes before its row commits and removes old bytes after, so a
        change killed in between leaves a file no row names: only in this object's folder, and
        only its own files (sub-folders are other objects). Called under the object's lock; the
        folder stays (the caller writes into it, or prunes it once the object is gone).
        """
        try:
            entries = os.scandir(self.folder(bucket, name))
        except (FileNotFoundError, NotADirectoryError):
            return
        with entries:
            for entry in entries:
                if entry.name != keep and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _new_folder(self, bucket: str, name: str) -> None:
        """The folder of BUCKET/NAME, which no row names (under its lock): made, or emptied of a
        killed change's leftover files when it exists; one system call in the common case."""
        folder = self.folder(bucket, name)
        try:
            os.mkdir(folder)
        except FileExistsError:
            self._sweep(bucket, name, keep=None)
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)

    # --- reading --------------------------------------------------------------------------

    def _row(self, bucket: str, name: str) -> tuple[str | None, dict[str, Any] | None] | None:
        row = self.conn.execute(
            sqlfiles.load("local_store/object.sql"), {"bucket": bucket, "name": name}
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def info(self, bucket: str, name: str) -> ObjectInfo | None:
        row = self._row(bucket, name)
        if row is None:
            return None
        return _object_info(bucket, name, row[1])

    def exists(self, bucket: str, name: str) -> bool:
        return self._row(bucket, name) is not None

    def get(self, bucket: str, name: str) -> bytes:
        row = self._row(bucket, name)
        if row is None or row[0] is None:
            raise FileNotFoundError(f"no object {bucket}/{name}")
        return self.file_path(bucket, name, row[0]).read_bytes()

    def stream(self, bucket: str, name: str) -> Iterator[bytes]:
        """The bytes of BUCKET/NAME in chunks of at most STREAM_CHUNK; the file is opened before
        the first chunk is asked for, so a missing object fails at the call."""
        row = self._row(bucket, name)
        if row is None or row[0] is None:
            raise FileNotFoundError(f"no object {bucket}/{name}")
        handle = self.file_path(bucket, name, row[0]).open("rb")
        return _chunks(handle)

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object of BUCKET in the folder PREFIX (and below), by name."""
        folder = prefix.strip("/")
        rows = self.conn.execute(
            sqlfiles.load("local_store/list.sql"),
            {"bucket": bucket, "prefix": f"{folder}/" if folder else ""},
        ).fetchall()
        for name, metadata in rows:
            yield _object_info(bucket, name, metadata)

    # --- writing --------------------------------------------------------------------------

    def put(
        self,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str = DEFAULT_CONTENT_TYPE,
        *,
        owner: uuid.UUID | None = None,
    ) -> ObjectInfo:
        """Create or replace BUCKET/NAME (a new version, as an upsert upload makes one)."""
        version = str(uuid.uuid4())
        now = datetime.now(UTC)
        metadata = storage_metadata(data, content_type, now)
        with self.conn.transaction():
            self._lock((bucket, name))
            previous = self._row(bucket, name)
            self._sweep(bucket, name, keep=previous[0] if previous else None)
            self._write_file(self.file_path(bucket, name, version), data, content_type)
            self.conn.execute(
                sqlfiles.load("local_store/upsert.sql"),
                {
                    "id": uuid.uuid4(), "bucket": bucket, "name": name, "owner": owner,
                    "owner_id": str(owner) if owner else None, "metadata": Jsonb(metadata),
                    "version": version, "at": now,
                },
            )
        if previous is not None and previous[0] != version:
            self._remove_file(bucket, name, previous[0])
        return _object_info(bucket, name, metadata)

    def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side copy; the destination must not exist (as the Storage API refuses too)."""
        with self.conn.transaction():
            self._lock((bucket, name), (to_bucket, to_name))
            source = self._row(bucket, name)
            if source is None or source[0] is None:
                raise FileNotFoundError(f"no object {bucket}/{name}")
            if self.exists(to_bucket, to_name):
                raise FileExistsError(f"{to_bucket}/{to_name} already exists")
            # No row names the destination: files in its folder are a killed copy's.
            self._sweep(to_bucket, to_name, keep=None)
            version = str(uuid.uuid4())
            target = self.file_path(to_bucket, to_name, version)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.file_path(bucket, name, source[0]), target)
            self.conn.execute(
                sqlfiles.load("local_store/copy.sql"),
                {"bucket": bucket, "name": name, "to_bucket": to_bucket, "to_name": to_name,
                 "id": uuid.uuid4(), "version": version, "at": datetime.now(UTC)},
            )

    def copy_many(self, orders: Sequence[CopyOrder], *, workers: int = 8) -> list[Copied | Exception]:
        """Server-side copies made together: one transaction holds their locks, reads their rows
        and writes the new ones in one statement; WORKERS threads copy the files, each byte read
        once and hashed as it is written. A destination that exists already (a killed run's
        copy, committed) is hashed as it is; any other (a killed copy's leftover file) is swept."""
        if not orders:
            return []
        keys = sorted({key for order in orders for key in ((order[0], order[1]), (order[2], order[3]))})
        at = datetime.now(UTC)
        with self.conn.transaction(), ThreadPoolExecutor(workers) as pool:
            self._lock(*keys)
            rows = {
                (bucket, name): (version, metadata or {})
                for bucket, name, version, metadata in self.conn.execute(
                    sqlfiles.load("local_store/objects.sql"),
                    {"buckets": [key[0] for key in keys], "names": [key[1] for key in keys]},
                )
            }
            versions = [None if (order[2], order[3]) in rows else str(uuid.uuid4()) for order in orders]

            def copy_one(order: CopyOrder, version: str | None) -> Copied | Exception:
                bucket, name, to_bucket, to_name = order
                try:
                    found = rows.get((to_bucket, to_name))
                    if found is not None:
                        return _hashed(self.file_path(to_bucket, to_name, found[0]), made=False)
                    source = rows.get((bucket, name))
                    if source is None or source[0] is None:
                        raise FileNotFoundError(f"no object {bucket}/{name}")
                    assert version is not None
                    self._new_folder(to_bucket, to_name)
                    metadata = source[1]
                    return self._copy_file(
                        self.file_path(bucket, name, source[0]), self.file_path(to_bucket, to_name, version),
                        metadata.get("mimetype") or DEFAULT_CONTENT_TYPE,
                        metadata.get("cacheControl") or CACHE_CONTROL,
                    )
                except (OSError, ValueError) as exc:
                    return exc

            outcomes = list(pool.map(copy_one, orders, versions))
            made = [
                (order, version)
                for order, version, outcome in zip(orders, versions, outcomes, strict=True)
                if version is not None and isinstance(outcome, Copied)
            ]
            if made:
                orders_made = [order for order, _ in made]
                buckets, names, to_buckets, to_names = (list(c) for c in zip(*orders_made, strict=True))
                self.conn.execute(
                    sqlfiles.load("local_store/copy_many.sql"),
                    {"ids": [uuid.uuid4() for _ in made], "buckets": buckets, "names": names,
                     "to_buckets": to_buckets, "to_names": to_names,
                     "versions": [version for _, version in made], "at": at},
                )
        return outcomes

    def move(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side move: the row keeps its id and version, the bytes change folder.

        A move killed after its row changed and before the source's file was removed is
        finished when asked again: the destination's row names the version the source folder
        still holds (versions are unique, so that file can only be this move's).
        """
        with self.conn.transaction():
            self._lock((bucket, name), (to_bucket, to_name))
            source = self._row(bucket, name)
            destination = self._row(to_bucket, to_name)
            if source is None or source[0] is None:
                moved = destination[0] if destination else None
                if moved and self.file_path(bucket, name, moved).is_file():
                    self._sweep(bucket, name, keep=None)
                    self._prune(bucket, self.folder(bucket, name))
                    return
                raise FileNotFoundError(f"no object {bucket}/{name}")
            if destination is not None:
                raise FileExistsError(f"{to_bucket}/{to_name} already exists")
            self._sweep(to_bucket, to_name, keep=None)
            version = source[0]
            target = self.file_path(to_bucket, to_name, version)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.file_path(bucket, name, version), target)
            self.conn.execute(
                sqlfiles.load("local_store/move.sql"),
                {"bucket": bucket, "name": name, "to_bucket": to_bucket, "to_name": to_name,
                 "at": datetime.now(UTC)},
            )
        self._remove_file(bucket, name, version)

    def remove(self, bucket: str, names: list[str], *, workers: int = 8) -> None:
        """Delete objects; missing ones are not an error (their leftover files go too). The files
        go by WORKERS threads: removing a folder costs a file system far more than a row."""
        if not names:
            return

        def sweep(name: str) -> None:
            self._sweep(bucket, name, keep=removed.get(name))
            if name not in removed:
                self._prune(bucket, self.folder(bucket, name))

        with self.conn.transaction(), ThreadPoolExecutor(workers) as pool:
            self._lock(*((bucket, name) for name in names))
            # Storage's delete protection is lifted for this statement only, then restored.
            self.conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
            removed = dict(self.conn.execute(
                sqlfiles.load("local_store/remove.sql"), {"bucket": bucket, "names": names}
            ).fetchall())
            self.conn.execute("SELECT set_config('storage.allow_delete_query', 'false', true)")
            # Files of a name that had no row are a killed change's (a remove killed after its
            # rows went, a copy before its row came): gone now, as an uninterrupted run leaves it.
            list(pool.map(sweep, names))
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda item: self._remove_file(bucket, *item), removed.items()))

    # The names the StorageBackend protocol uses for the same two verbs.
    read = get

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        self.put(bucket, name, data, content_type)

    # --- bulk -----------------------------------------------------------------------------

    def put_many(self, objects: Iterable[NewObject], *, workers: int = 4) -> int:
        """Write many new objects: files by a few threads, rows by one COPY and one set-based INSERT."""
        count = 0
        known_folders: set[Path] = set()

        def store_file(item: NewObject) -> dict[str, Any]:
            path = self.file_path(item.bucket, item.name, item.version)
            # Every object is a folder of its own; its parents are shared, so remember them.
            if path.parent.parent not in known_folders:
                path.parent.parent.mkdir(parents=True, exist_ok=True)
                known_folders.add(path.parent.parent)
            self._write_file(path, item.data, item.content_type)
            return storage_metadata(item.data, item.content_type, item.created_at)

        items = iter(objects)
        with self.conn.transaction(), ThreadPoolExecutor(workers) as pool:
            self.conn.execute(sqlfiles.load("local_store/bulk_stage.sql"))
            with self.conn.cursor().copy(sqlfiles.load("local_store/bulk_copy.sql")) as copy:
                while chunk := list(islice(items, _BULK_CHUNK)):
                    for item, metadata in zip(chunk, pool.map(store_file, chunk), strict=True):
                        copy.write_row((item.id, item.bucket, item.name, item.owner,
                                        Jsonb(metadata), item.version, item.created_at))
                    count += len(chunk)
            self.conn.execute(sqlfiles.load("local_store/bulk_insert.sql"))
        return count


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view):]


def _set_headers(descriptor: int, content_type: str, cache_control: str) -> None:
    try:
        os.setxattr(descriptor, _XATTR_CONTENT_TYPE, content_type.encode())
        os.setxattr(descriptor, _XATTR_CACHE_CONTROL, cache_control.encode())
    except OSError:
        # Extended attributes are optional: without them the API serves a default type.
        pass


def _hashed(path: Path, *, made: bool) -> Copied:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(STREAM_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Copied(size, digest.hexdigest(), made)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(STREAM_CHUNK):
            yield chunk


def _object_info(bucket: str, name: str, metadata: dict[str, Any] | None) -> ObjectInfo:
    meta = metadata or {}
    return ObjectInfo(
        bucket=bucket,
        name=name,
        size=int(meta.get("size") or 0),
        etag=(meta.get("eTag") or "").strip('"') or None,
        content_type=meta.get("mimetype"),
    )
