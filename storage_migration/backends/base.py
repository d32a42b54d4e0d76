"""The one small interface every storage backend offers the transfer: info, read, copy, move, remove, list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


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


class StorageBackend(Protocol):
    """A place objects live: the Supabase Storage HTTP API, or the local stack's store."""

    def info(self, bucket: str, name: str) -> ObjectInfo | None:
        """The object's size and ETag, or None when it does not exist."""

    def readable(self, name: str) -> bool:
        """Whether read() and info() can name this object (the HTTP API refuses keys outside
        its alphabet; such an object can still be a copy's source, be listed and removed)."""

    def read(self, bucket: str, name: str) -> bytes:
        """The object's bytes (for hashing during verification)."""

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> None:
        """Create or replace an object."""

    def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side copy; the source stays."""

    def move(self, bucket: str, name: str, to_bucket: str, to_name: str) -> None:
        """Server-side move."""

    def remove(self, bucket: str, names: list[str]) -> None:
        """Delete objects; missing ones are not an error."""

    def list(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under PREFIX, all pages."""
