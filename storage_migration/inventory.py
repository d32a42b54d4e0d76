"""What the legacy buckets hold (size, hash, type) and where chat rows refer to it.

The inventory is recorded once per object in the tool's schema, so a resumed or later run
compares copies against what the source held before anything moved. An object about to be
copied is hashed by its copy, which reads its bytes before anything of it moved. References are read
from the configured file columns and from every string inside `metadata` JSON, found by the
database (sql/storage/025): JSON of any depth is never parsed in Python.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
from consolidation.storage_migration.backends.base import ObjectInfo, StorageBackend
from consolidation.storage_migration.references import (
    ForeignReference,
    ObjectReference,
    ReferenceStyle,
    parse_reference,
    shown,
)
from psycopg import sql

from consolidation.core import sqlfiles
from consolidation.core.config import Config
from consolidation.core.names import identifiers

REFERENCE_QUERIES = (
    "storage/020_chat_message_references.sql",
    "storage/021_message_references.sql",
    "storage/022_voice_note_references.sql",
)
REFERENCE_SITES = "storage/025_reference_sites.sql"
# Objects hashed and recorded per transaction.
INVENTORY_BATCH = 500
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class InventoryObject:
    bucket: str
    name: str
    size: int
    sha256: str | None  # None: the backend cannot read it (its copy is proved by content_etag)
    etag: str | None
    content_type: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.bucket, self.name)


# An ETag that is the MD5 of the object's bytes, as Supabase Storage's file backend and S3
# record it for an object uploaded in one part (a multipart ETag ends in -<parts>).
_CONTENT_ETAG = re.compile(r"[0-9a-f]{32}")


def content_etag(etag: str | None) -> str | None:
    """ETAG when it is a hash of the content (equal ones, with equal sizes, prove a server-side
    copy), else None."""
    found = (etag or "").strip('"').lower()
    return found if _CONTENT_ETAG.fullmatch(found) else None


def proved_by_etag(expected: InventoryObject, size: int, etag: str | None) -> bool:
    """Whether a copy of SIZE bytes the server records with ETAG is EXPECTED, by the server's
    own records: equal sizes and equal content hashes (an unreadable source's only proof)."""
    recorded = content_etag(expected.etag)
    return recorded is not None and (size, content_etag(etag)) == (expected.size, recorded)


def sha256_of(backend: StorageBackend, bucket: str, name: str) -> tuple[int, str]:
    """Size and sha256 of an object's bytes as the backend serves them, streamed (bounded memory)."""
    digest, size = hashlib.sha256(), 0
    for chunk in backend.stream(bucket, name):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def load_inventory(conn: psycopg.Connection, config: Config) -> dict[tuple[str, str], InventoryObject]:
    query = sql.SQL("SELECT bucket, name, size, sha256, etag, content_type FROM {}").format(
        identifiers(config)["tool.storage_inventory"]
    )
    return {(row[0], row[1]): InventoryObject(*row) for row in conn.execute(query)}


def take_inventory(
    conn: psycopg.Connection,
    config: Config,
    backend: StorageBackend,
    *,
    on_progress: ProgressCallback | None = None,
    hashed_by_copy: Collection[tuple[str, str]] = (),
) -> dict[tuple[str, str], InventoryObject]:
    """Record every legacy object not yet in the inventory (hashing its bytes); return them all.

    An object in HASHED_BY_COPY is recorded without its hash (sha256 ''): the copy about to read
    its bytes records it (sql/storage/035), so that each byte is read once."""
    known = load_inventory(conn, config)
    new: list[ObjectInfo] = [
        info
        for bucket in config.storage.legacy_buckets
        for info in backend.list(bucket)
        if (bucket, info.name) not in known
    ]

    def hashed(info: ObjectInfo) -> InventoryObject:
        if not backend.readable(info.name):
            return InventoryObject(info.bucket, info.name, info.size, None, info.etag, info.content_type)
        if (info.bucket, info.name) in hashed_by_copy:
            return InventoryObject(info.bucket, info.name, info.size, "", info.etag, info.content_type)
        size, digest = sha256_of(backend, info.bucket, info.name)
        return InventoryObject(info.bucket, info.name, size, digest, info.etag, info.content_type)

    statement = sqlfiles.render("storage/030_inventory_record.sql", identifiers(config))
    with ThreadPoolExecutor(config.storage.concurrency) as pool:
        for start in range(0, len(new), INVENTORY_BATCH):
            # Hashed concurrently, streamed; a batch's rows commit together.
            items = list(pool.map(hashed, new[start:start + INVENTORY_BATCH]))
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(statement, [item.__dict__ for item in items])
            for item in items:
                known[item.key] = item
            if on_progress:
                on_progress(len(items), sum(item.size for item in items))
    return known


@dataclass(frozen=True)
class ReferenceSite:
    """One reference as a row holds it: which row, which column, where inside its JSON."""

    table_name: str
    row_id: uuid.UUID
    column_name: str
    json_path: tuple[str, ...]
    raw: str
    session_id: uuid.UUID | None
    sender_id: uuid.UUID | None
    context: str | None
    # For a chat message merge made from a legacy row: that row's id (its table is CONTEXT).
    copy_of: uuid.UUID | None = None

    @property
    def folder(self) -> str | None:
        """Where this row's files belong in the target bucket; None for rows outside the chat."""
        if self.session_id is None or self.sender_id is None:
            return None
        return f"{self.session_id}/{self.sender_id}"


def reference_sites_sql(config: Config, query: str) -> str:
    """QUERY's rows (one of REFERENCE_QUERIES) as one row per place a reference may sit."""
    names = identifiers(config)
    holders = sqlfiles.render(query, names).rstrip()
    return f"WITH RECURSIVE holders AS (\n{holders}\n),\n{sqlfiles.render(REFERENCE_SITES, names)}"


def scan_references(
    conn: psycopg.Connection, config: Config, queries: tuple[str, ...] = REFERENCE_QUERIES
) -> Iterator[ReferenceSite]:
    """Every file column value and every string inside metadata, of every chat-related row."""
    for query in queries:
        with conn.cursor() as cursor:
            cursor.execute(reference_sites_sql(config, query))
            for table, row_id, session_id, sender_id, column, json_path, raw, context, copy_of in cursor:
                yield ReferenceSite(
                    table, row_id, column, tuple(json_path), raw, session_id, sender_id, context, copy_of
                )


@dataclass(frozen=True)
class Located:
    """What a reference names: a legacy object (key), a target object, a foreign URL, or nothing."""

    site: ReferenceSite
    kind: str  # legacy | missing | target | other_bucket | foreign
    reference: ObjectReference | None = None
    key: tuple[str, str] | None = None
    reason: str = ""


def locate(
    site: ReferenceSite, config: Config, inventory: dict[tuple[str, str], InventoryObject]
) -> Located | None:
    """Classify one reference; None for JSON strings that are not file references at all."""
    storage = config.storage
    buckets = (*storage.legacy_buckets, storage.target_bucket)
    parsed = parse_reference(site.raw, project_url=storage.project_url, known_buckets=buckets)
    in_json = site.column_name != "file_url"
    if parsed is None:
        return None
    if isinstance(parsed, ForeignReference):
        # Inside JSON only URLs count as references: other strings are captions, names, ids.
        if in_json and "://" not in site.raw:
            return None
        return Located(site, "foreign", reason=parsed.reason)
    if in_json and parsed.style is ReferenceStyle.BARE_PATH:
        return None
    if parsed.bucket == storage.target_bucket:
        return Located(site, "target", parsed, (parsed.bucket, parsed.path))
    if parsed.bucket is None:
        bucket = _bare_path_bucket(parsed.path, site.context, config, inventory)
        if bucket is None:
            reason = f"bare path {shown(parsed.path)!r} is in no bucket"
            return Located(site, "missing", parsed, reason=reason)
        key = (bucket, parsed.path)
    elif parsed.bucket in storage.legacy_buckets:
        key = (parsed.bucket, parsed.path)
    else:
        return Located(site, "other_bucket", parsed, reason=f"bucket {shown(parsed.bucket)} is not migrated")
    if key not in inventory:
        reason = f"{shown(f'{key[0]}/{key[1]}')} does not exist"
        return Located(site, "missing", parsed, key, reason=reason)
    return Located(site, "legacy", parsed, key)


def _bare_path_bucket(
    path: str, context: str | None, config: Config, inventory: dict[tuple[str, str], InventoryObject]
) -> str | None:
    preferred = config.storage.bare_path_buckets.get(context or "")
    if preferred and (preferred, path) in inventory:
        return preferred
    holders = [bucket for bucket in config.storage.legacy_buckets if (bucket, path) in inventory]
    return holders[0] if len(holders) == 1 else preferred
