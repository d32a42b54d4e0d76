"""The synthetic legacy dataset: SPEC's legacy schema, filled deterministically with every anomaly class."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.types.json import Jsonb

from consolidation.core import db, sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import ConfigError, UsageError
from consolidation.stack import STORE_BUCKET, TENANT, Stack
from consolidation.storage_migration.local_store import LocalStore, NewObject

# The project the seeded URLs point at (Supabase CLI's default API address), and another
# project whose URLs must be recognised as foreign and left alone.
SEED_PROJECT_URL = "http://127.0.0.1:54321"
SEED_FOREIGN_URL = "https://otherproject.supabase.co"
SEED_BUCKETS = ("chat-attachments", "voice-notes", "chat-files")
SEED_MARK = "consolidate stack seed: synthetic legacy dataset"
# The path to the innermost container of the seed's 1,000-level metadata ({"d": [{"d": [...]}]}):
# a message whose metadata has something there is that deep (sql/seed/anomalies.sql counts them).
DEEP_PATH = ["d", "0"] * 499 + ["d"]
# The l-o anomaly rows (sql/seed/042, 072): bookings and messages beyond what a schema would let
# the legacy app write, part of the requested sizes once these are large enough to hold them.
EDGE_BOOKINGS, EDGE_MESSAGES = 3, 16
EDGE_MINIMUM_MESSAGES, EDGE_MINIMUM_BOOKINGS = 100, 13
MIN_USERS = 8

# The names uploads carry, by group; SQL picks one per file (see sql/seed/020_file_names.sql).
FILE_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "plain": (
        ("photo.jpg", "image/jpeg"), ("image.png", "image/png"), ("IMG_2041.JPG", "image/jpeg"),
        ("document.pdf", "application/pdf"), ("notes.txt", "text/plain"),
        ("invoice-2024-03.pdf", "application/pdf"), ("screenshot.png", "image/png"),
        ("birth_chart.pdf", "application/pdf"),
    ),
    "spaces": (
        ("Screenshot 2024-03-01 at 10.15.32.png", "image/png"),
        ("my reading notes.pdf", "application/pdf"), ("holiday photo (1).jpg", "image/jpeg"),
    ),
    "non_ascii": (
        ("résumé.pdf", "application/pdf"), ("Überweisung_März.pdf", "application/pdf"),
        ("写真.jpg", "image/jpeg"), ("заметки.txt", "text/plain"), ("café_☕.png", "image/png"),
    ),
    "repeated": (("image.jpg", "image/jpeg"),),
    "voice": (("voice-note.webm", "audio/webm"), ("recording.m4a", "audio/mp4")),
    "voice_special": (("Sprachnachricht 1.m4a", "audio/mp4"), ("nota de voz ñ.webm", "audio/webm")),
}

# Leading bytes of each type, so a seeded file looks like one to tools that sniff content.
_MAGIC = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff\xe0",
    "application/pdf": b"%PDF-1.4\n",
    "audio/webm": b"\x1aE\xdf\xa3",
    "audio/mp4": b"\x00\x00\x00\x18ftypM4A ",
}
_STEP = re.compile(r"^seed/\d{3}_")


@dataclass(frozen=True)
class SeedOptions:
    """How much to seed, and the seed every value derives from."""

    users: int = 1000
    bookings: int = 5000
    messages: int = 100_000
    voice_notes: int = 20_000
    seed: int = 1

    @classmethod
    def small(cls) -> SeedOptions:
        """A dataset with every anomaly class that seeds in about a second (the test fixture's)."""
        return cls(users=40, bookings=60, messages=1500, voice_notes=300, seed=1)

    @classmethod
    def scaled(
        cls,
        messages: int = 100_000,
        *,
        users: int | None = None,
        bookings: int | None = None,
        voice_notes: int | None = None,
        seed: int = 1,
    ) -> SeedOptions:
        """Sizes in proportion to MESSAGES unless given: a user per 200, a booking per 20, a voice per 5."""
        return cls(
            users=max(40, messages // 200) if users is None else users,
            bookings=max(60, messages // 20) if bookings is None else bookings,
            messages=messages,
            voice_notes=messages // 5 if voice_notes is None else voice_notes,
            seed=seed,
        )

    def validate(self) -> None:
        for name in ("users", "bookings", "messages", "voice_notes"):
            if getattr(self, name) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")
        if self.users < MIN_USERS:
            raise UsageError(
                f"--users must be at least {MIN_USERS} (admins, readers and direct pairs need them)"
            )
        if self.bookings < 1:
            raise UsageError("--bookings must be at least 1")


@dataclass
class SeedReport:
    """What a seed made: rows per table, rows per anomaly class, files written, time per step."""

    options: SeedOptions
    counts: dict[str, int] = field(default_factory=dict)
    anomalies: dict[str, int] = field(default_factory=dict)
    files_written: int = 0
    bytes_written: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    reset: bool = False

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


Progress = Callable[[str], None]


def seed_target(directory: Path | None = None) -> tuple[str, Path]:
    """The database and store root to seed: a stack folder, else the environment, else the default stack."""
    if directory is not None:
        stack = Stack(directory)
        return stack.database_url(), stack.store_root
    url = os.environ.get(db.DATABASE_URL_ENV)
    root = os.environ.get("CONSOLIDATION_STORAGE_ROOT")
    if url and root:
        return url, Path(root)
    if url or root:
        raise ConfigError(
            "DATABASE_URL and CONSOLIDATION_STORAGE_ROOT must be set together (database and file store)",
            hint='eval "$(consolidate stack env)", or pass --dir with the stack folder',
        )
    stack = Stack()
    return stack.database_url(), stack.store_root


def seed_legacy(
    database_url: str,
    store_root: Path,
    options: SeedOptions,
    *,
    reset: bool = False,
    progress: Progress | None = None,
) -> SeedReport:
    """Create SPEC's legacy schema on DATABASE_URL and fill it (one transaction); objects go to STORE_ROOT."""
    options.validate()
    report = SeedReport(options=options)
    say = progress or (lambda _message: None)
    store_root = Path(store_root)
    with db.connection(database_url) as conn:
        if _occupied(conn, reset):
            say("dropping the previous seed")
            with _timed(report, "reset"):
                conn.execute(sqlfiles.load("seed/reset.sql"))
                conn.commit()
                for bucket in SEED_BUCKETS:
                    shutil.rmtree(store_root / STORE_BUCKET / TENANT / bucket, ignore_errors=True)
            report.reset = True
        conn.execute("SET LOCAL work_mem = '256MB'")
        with _timed(report, "schema"):
            for relative in sqlfiles.files("legacy"):
                conn.execute(sqlfiles.load(relative))
        params = _parameters(options)
        for relative in [name for name in sqlfiles.files("seed") if _STEP.match(name)]:
            say(f"seeding: {relative}")
            text = sqlfiles.load(relative)
            with _timed(report, relative.removeprefix("seed/").removesuffix(".sql")):
                # Files of several statements (function definitions) take no parameters.
                conn.execute(text, params if "%(" in text else None)
        say("writing objects to the store")
        with _timed(report, "objects"):
            rows = conn.execute(sqlfiles.load("seed/objects.sql"), params).fetchall()
            store = LocalStore(conn, store_root, STORE_BUCKET, TENANT)
            report.files_written = store.put_many(_new_objects(options.seed, rows))
            report.bytes_written = sum(row[3] for row in rows)
        say("counting anomalies")
        with _timed(report, "counts"):
            report.anomalies = dict(conn.execute(sqlfiles.load("seed/anomalies.sql"), params).fetchall())
            conn.execute(sqlfiles.load("seed/mark.sql"))
            report.counts = dict(conn.execute(sqlfiles.load("seed/counts.sql")).fetchall())
        with _timed(report, "commit"):
            conn.commit()
    return report


def _occupied(conn: psycopg.Connection, reset: bool) -> bool:
    """Whether a previous dataset must be dropped first; refuses unless RESET and it is the seed's own."""
    has_tables, mark, has_users, has_objects = conn.execute(sqlfiles.load("seed/state.sql")).fetchone()
    has_rows = has_tables and conn.execute(sqlfiles.load("seed/legacy_rows.sql")).fetchone()[0]
    conn.rollback()
    if not (has_rows or has_users or has_objects):
        return False
    if not reset:
        raise UsageError(
            "the database already holds legacy chat data (rows, seeded users or chat objects)",
            hint="seed an empty database, or pass --reset to drop a previous seed and seed again",
        )
    if mark != SEED_MARK:
        raise UsageError(
            "refusing to reset: the legacy data here was not made by `consolidate stack seed`",
            hint="point DATABASE_URL at a local stack's database; --reset only drops seeded data",
        )
    return True


def _parameters(options: SeedOptions) -> dict[str, object]:
    config = Config()
    edges = options.messages >= EDGE_MINIMUM_MESSAGES and options.bookings >= EDGE_MINIMUM_BOOKINGS
    return {
        "seed": str(options.seed),
        "users": options.users,
        # The planned rows; with the edge rows, the sizes asked for.
        "bookings": options.bookings - (EDGE_BOOKINGS if edges else 0),
        "messages": options.messages - (EDGE_MESSAGES if edges else 0),
        "edge_bookings": EDGE_BOOKINGS if edges else 0,
        "edge_messages": EDGE_MESSAGES if edges else 0,
        "voice_notes": options.voice_notes,
        "namespace": config.session_rule.direct_namespace,
        "booking_status": Jsonb(config.session_rule.booking_status),
        "project_url": SEED_PROJECT_URL,
        "foreign_url": SEED_FOREIGN_URL,
        "deep_path": DEEP_PATH,
        "file_names": Jsonb([
            {"group_name": group, "leaf": leaf, "leaf_url": quote(leaf, safe=""), "mimetype": mimetype}
            for group, names in FILE_NAMES.items()
            for leaf, mimetype in names
        ]),
    }


def object_bytes(seed: int, bucket: str, name: str, size: int, mimetype: str) -> bytes:
    """The content of a seeded object: SIZE bytes from its identity, with its type's leading bytes."""
    body = hashlib.shake_256(f"{seed}:{bucket}:{name}".encode()).digest(size)
    magic = _MAGIC.get(mimetype, b"")[:size]
    if mimetype == "text/plain":
        body = body.hex().encode()[:size]
    return magic + body[len(magic):]


def _new_objects(seed: int, rows: list[tuple]) -> Iterator[NewObject]:
    for object_id, bucket, name, size, mimetype, owner, version, created_at in rows:
        yield NewObject(
            id=object_id, bucket=bucket, name=name,
            data=object_bytes(seed, bucket, name, size, mimetype),
            content_type=mimetype, version=version, created_at=created_at, owner=owner,
        )


class _timed:
    """Adds the seconds of a with-block to REPORT.timings[KEY]."""

    def __init__(self, report: SeedReport, key: str) -> None:
        self.report, self.key = report, key

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        elapsed = time.perf_counter() - self.started
        self.report.timings[self.key] = self.report.timings.get(self.key, 0.0) + elapsed
