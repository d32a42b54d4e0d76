"""The small interface of every storage backend: info, read, stream, write, copy, move, remove, list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

# One copy asked of copy_many: source bucket, source name, destination bucket, destination name.
CopyOrder = tuple[str, str, str, str]


@dataclass(frozen=True)
class ObjectInfo:
    """What the transfer needs to know of one object to verify a copy."""

    bucket: str
    name: str
    size: int
    etag: str | None
    content_type: str | None


class ObjectRefused(Exception):
    """The backend refused a request about one object (its key, its size, a conflict), not the
    caller: the transfer isolates that object and goes on."""

    def __init__(self, message: str, *, status: str = "", code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Copied:
    """A copy copy_many made (MADE) or found made by an earlier run: its size and the sha256 of
    its bytes, hashed as they were written or read back, never from the source's record."""

    size: int
    sha256: str
    made: bool = True
    etag: str | None = None  # as the server records the copy, where it does


class StorageBackend(Protocol):
    """A place objects live: the Supabase Storage HTTP API, or the local stack's store."""

    def info(self, bucket: str, name: str) -> ObjectInfo | None:
        """The object's size and ETag, or None when it does not exist."""

    def readable(self, name: str) -> bool:
        """Whether read() and info() can name this object (the HTTP API refuses keys outside
        its alphabet; such an object can still be a copy's source, be listed and removed)."""

    def read(self, bucket: str, name: str) -> bytes:
        """The object's bytes, whole (small objects; tests)."""

    def stream(self, bucket: str, name: str) -> Iterator[bytes]:
        """The object's bytes in chunks of bounded size (hashing in bounded memory); raises
        FileNotFoundError when the object does not exist."""

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        """Create or replace an object."""

    def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side copy; the source stays."""

    def copy_many(self, orders: Sequence[CopyOrder]) -> list[Copied | Exception]:
        """Make each copy unless its destination exists (an earlier run's), concurrently, and
        hash what the destination holds; per order its Copied, or the error that stopped it
        (FileNotFoundError: the source is gone)."""

    def move(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side move."""

    def remove(self, bucket: str, names: list[str]) -> None:
        """Delete objects; missing ones are not an error."""

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under PREFIX, all pages."""
