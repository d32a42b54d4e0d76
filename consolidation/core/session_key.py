"""Deterministic ids: a direct session's from its unordered participant pair, a migrated message's
from its source row. The same formulas live in SQL (sql/journal/010_schema.sql); tests hold them
equal."""

from __future__ import annotations

import hashlib
import uuid


def _uuid8(material: bytes) -> uuid.UUID:
    # UUIDv8 (RFC 9562): 128 bits of our own, with the version and variant bits set.
    digest = bytearray(hashlib.sha256(material).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(digest))


def direct_session_id(namespace: uuid.UUID, a: uuid.UUID, b: uuid.UUID) -> uuid.UUID:
    """The session of the pair {a, b}: order-free, identical on every run and machine."""
    # PostgreSQL orders uuids by their bytes, as Python orders them by their integer value.
    low, high = sorted((a, b))
    return _uuid8(namespace.bytes + low.bytes + high.bytes)


def message_id(namespace: uuid.UUID, source_table: str, source_id: uuid.UUID) -> uuid.UUID:
    """The chat message a source row becomes when merge migrates it."""
    return _uuid8(namespace.bytes + source_table.encode() + source_id.bytes)
