"""Property: on any legacy dataset, the whole pipeline run as an operator runs it ends clean.

Hypothesis draws adversarial legacy worlds over the whole mapping: NULL in every nullable column,
metadata of every JSON shape (bare strings, numbers, booleans, null and arrays at the top, nesting
to 1,000 levels, URLs at any depth and inside arrays, 100 KB strings), every file-reference form
and malformed ones (100 KB URLs, broken percent-encoding, `..` segments, other hosts and
projects, `data:` URIs, query strings, fragments), types in any case, identical timestamps,
self-messages, bookings whose user is the reader, admins writing in bookings they are not in,
objects referenced from several sessions or from a message and a voice note. Each world is
loaded into a fresh database and its file store, and every phase runs through the `consolidate`
command in a subprocess. For each world: every phase exits 0 or with a documented finding,
never a traceback; every source row has exactly one fate; every session's participants are
non-NULL and distinct; verify is clean; a second run changes nothing; the backup's checksums
equal the source's.

    .venv/bin/pytest -q tests/test_properties.py                              # "ci": 4 examples
    .venv/bin/pytest -q -s tests/test_properties.py --hypothesis-profile=long # prints the figures
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from consolidation.storage_migration.backends.local import LocalBackend
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from consolidation import faults
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.names import BACKUP_TABLES, table
from consolidation.core.session_key import direct_session_id
from consolidation.phases import backup
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

# The pipeline, phase by phase, as an operator types it (today's spellings).
PIPELINE: dict[str, tuple[str, ...]] = {
    "plan": ("plan", "--no-sql"),
    "backup": ("backup", "--apply"),
    "merge": ("merge", "--apply"),
    "storage": ("storage", "--apply"),
    "storage verify": ("storage", "verify"),
    "constraints": ("constraints", "--apply"),
    "policies": ("policies", "--apply"),
    "verify": ("verify",),
}
# Run a second time: nothing may change (a re-apply keeps the first apply's snapshot).
RERUN = ("merge", "storage", "constraints", "policies")
RERUN_MAY_CHANGE: set[str] = set()
# The findings a phase may end with (exit 1), by the words of its message: constraints refuse
# while the app's own rows (which merge never touches) violate NOT NULL.
DOCUMENTED_FINDINGS = {"constraints": "constraints refused, nothing changed"}

CONSOLIDATE = str(Path(sys.executable).parent / "consolidate")
CONFIG = Config()
PROJECT = CONFIG.storage.project_url
NAMESPACE = CONFIG.session_rule.direct_namespace
LEGACY_BUCKETS = CONFIG.storage.legacy_buckets
TARGET = CONFIG.storage.target_bucket
LONG = 100_000
# A few instants, so that many rows share one.
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
INSTANTS = [T0, T0, T0 + timedelta(seconds=1), T0 + timedelta(days=3)]
# What the long run prints: datasets, rows, fates and findings by kind.
FIGURES: Counter[str] = Counter()


def key(kind: int, n: int) -> uuid.UUID:
    """A readable id: kind 1 users, 2 bookings, 3 sessions, 4 messages, 5 voice notes, 6 chat messages."""
    return uuid.UUID(f"{kind:08d}-0000-4000-8000-{n:012d}")


GHOST = key(9, 1)  # a sender or recipient who is nobody
# Text PostgreSQL can hold (no NUL, no lone surrogates), in every script.
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    """One legacy dataset: rows per table (column -> value) and the objects in the store."""

    users: list[tuple[uuid.UUID, str | None]] = field(default_factory=list)  # (id, profile role)
    bookings: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    chat_messages: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    voice_notes: list[dict] = field(default_factory=list)
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Hypothesis prints a failing world: long values shortened, so it stays readable.
        def short(value: object) -> object:
            text = str(value)
            return text if len(text) < 120 else f"{text[:80]}…({len(text)} chars)"

        rows = {name: [{k: short(v) for k, v in row.items()} for row in getattr(self, name)]
                for name in ("bookings", "sessions", "chat_messages", "messages", "voice_notes")}
        return f"World(users={self.users}, objects={list(self.objects)}, {rows})"

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(repr(self))  # type: ignore[attr-defined]


LEAVES = ["photo.jpg", "my notes.pdf", "café ☕.png", "写真.jpg", "voice.webm", "photo.jpg", "..hidden.txt"]


def forms(bucket: str, name: str) -> st.SearchStrategy[str]:
    """Every form a reference to BUCKET/NAME takes, with a query or fragment sometimes."""
    encoded = quote(f"{bucket}/{name}", safe="/")
    api = f"{PROJECT}/storage/v1"
    return st.sampled_from([
        f"{api}/object/public/{encoded}",
        f"{api}/object/public/{encoded}?download=",
        f"{api}/object/authenticated/{encoded}#page=2",
        f"{api}/object/sign/{encoded}?token=eyJhbGciOiJIUzI1NiJ9.e30.sig",
        f"{api}/render/image/public/{encoded}?width=320&height=320",
        f"{api}/object/{encoded}",
        f"{bucket}/{name}",
        f"/{bucket}/{name}",
        name,
    ])


MALFORMED = st.sampled_from([
    f"{PROJECT}/storage/v1/object/public/chat-attachments/u/" + "x" * LONG + ".png",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/u/" + "é" * (LONG // 2) + ".png",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/u/%ZZ%C3%28.png",
    f"{PROJECT}/storage/v1/object/public/chat-attachments/u/../../voice-notes/x.webm",
    "chat-attachments/u/../x.png",
    "https://otherproject.supabase.co/storage/v1/object/public/chat-attachments/u/x.png",
    "https://cdn.example.com/u/x.png?sig=1#top",
    f"{PROJECT}/rest/v1/messages?select=*",
    "http://[::1/storage/v1/object/public/chat-attachments/x.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "blob:https://app.example.com/6c1e",
    "",
    "   ",
    "not a url at all",
])


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def leaves(references: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """JSON scalars as text: references, captions, numbers, booleans, null, 100 KB strings."""
    return st.one_of(
        references.map(json_text),
        st.text(TEXT, max_size=12).map(json_text),
        st.integers(-(10**12), 10**12).map(str),
        st.sampled_from(["true", "false", "null", "3.5e-3"]),
        st.just(json_text("é" * LONG)),
    )


def nested(leaf: str, kinds: list[str], keys: list[str]) -> str:
    """LEAF inside one container per kind ("o" an object under KEYS' key, "a" an array)."""
    text = leaf
    for level, kind in enumerate(kinds):
        if kind == "o":
            text = "{" + json_text(keys[level % len(keys)]) + ": " + text + "}"
        else:
            text = "[1, " + text + "]"
    return text


def metadata(references: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    """A metadata value as JSON text (None for SQL NULL): any shape, any depth up to 1,000."""
    leaf = leaves(references)
    small = st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
            st.dictionaries(st.text(TEXT, max_size=6), children, max_size=3).map(
                lambda entries: "{" + ", ".join(f"{json_text(k)}: {v}" for k, v in entries.items()) + "}"
            ),
        ),
        max_leaves=5,
    )
    deep = st.builds(
        nested,
        leaf,
        st.one_of(st.just(["o", "a"] * 500), st.lists(st.sampled_from("oa"), min_size=2, max_size=60),
                  st.just(["a"] * 1000), st.just(["o"] * 1000)),
        st.lists(st.text(TEXT, min_size=1, max_size=4), min_size=1, max_size=3),
    )
    return st.one_of(st.none(), st.just("{}"), leaf, small, deep)


def mostly(usual: st.SearchStrategy, *odd: object) -> st.SearchStrategy:
    """USUAL five times in six, else one of ODD: most rows can migrate, so storage and verify
    have work, and every anomaly still comes up."""
    return st.integers(0, 5).flatmap(lambda roll: usual if roll else st.sampled_from(odd))


@st.composite
def worlds(draw: st.DrawFn) -> World:
    world = World()
    roles = draw(st.lists(st.sampled_from(["user", "reader", "admin", None]), min_size=2, max_size=5))
    world.users = [(key(1, n), role) for n, role in enumerate(roles)]
    people = [user for user, _ in world.users]
    person = st.sampled_from(people)

    for n in range(draw(st.integers(1, 5))):
        owner = draw(person)
        bucket = draw(st.sampled_from(LEGACY_BUCKETS))
        name = f"{owner}/k{n}/{draw(st.sampled_from(LEAVES))}"
        world.objects[(bucket, name)] = draw(st.binary(max_size=64))
    stored = list(world.objects)
    references = st.one_of(
        st.sampled_from(stored).flatmap(lambda found: forms(*found)),
        # an object that is not there
        st.sampled_from(LEGACY_BUCKETS).flatmap(lambda bucket: forms(bucket, "gone/missing.png")),
        MALFORMED,
    )

    for n in range(draw(st.integers(1, 4))):
        user = draw(mostly(person, None))
        reader = draw(mostly(person, None, user))
        world.bookings.append({
            "id": key(2, n), "user_id": user, "reader_id": reader,
            "status": draw(st.sampled_from(["pending", "active", "completed", "cancelled"])),
            "created_at": draw(st.sampled_from(INSTANTS)),
        })
    # The newer app's own sessions: a booking's, a pair's (its derived id), or one of its own.
    for n in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["booking", "pair", "own"]))
        if kind == "booking" and world.bookings:
            booking = draw(st.sampled_from(world.bookings))
            members = list(dict.fromkeys(p for p in (booking["user_id"], booking["reader_id"]) if p))
            if members and all(s["id"] != booking["id"] for s in world.sessions):
                world.sessions.append({"id": booking["id"], "participants": members, "type": "booking",
                                       "booking_id": booking["id"]})
        elif kind in ("pair", "own") and len(people) > 1:
            a, b = draw(st.lists(person, min_size=2, max_size=2, unique=True))
            session = direct_session_id(NAMESPACE, a, b) if kind == "pair" else key(3, n)
            if all(s["id"] != session for s in world.sessions):
                world.sessions.append({"id": session, "participants": sorted([a, b]), "type": "direct",
                                       "booking_id": None})
    sessions = [s["id"] for s in world.sessions]
    places = [b["id"] for b in world.bookings] + sessions + [key(2, 99)]  # and a deleted booking

    for n in range(draw(st.integers(2, 10))):
        sender = draw(mostly(person, None, GHOST))
        world.messages.append({
            "id": key(4, n),
            "booking_id": draw(st.one_of(st.none(), st.sampled_from(places))),
            "sender_id": sender,
            "recipient_id": draw(mostly(person, None, sender, GHOST)),
            "type": draw(mostly(st.sampled_from(["text", "image", "file", "voice"]),
                                "TEXT", "Image", "vOiCe", None, "sticker")),
            "content": draw(mostly(st.text(TEXT, max_size=20), None, "", "x" * LONG)),
            "file_url": draw(st.one_of(st.none(), references)),
            "metadata": draw(metadata(references)),
            "created_at": draw(mostly(st.sampled_from(INSTANTS), None)),
        })
    for n in range(draw(st.integers(0, 4))):
        world.voice_notes.append({
            "id": key(5, n),
            "user_id": draw(mostly(person, GHOST)),
            "context_type": draw(mostly(st.just("chat"), "booking", "profile")),
            "context_id": draw(mostly(st.sampled_from(places), None, key(9, 2))),
            "file_url": draw(references),
            "file_name": draw(st.one_of(st.none(), st.sampled_from(LEAVES))),
            "file_size": draw(st.one_of(st.none(), st.integers(0, 10**9))),
            "duration_seconds": draw(st.one_of(st.none(), st.decimals(0, 999999, places=2))),
            "created_at": draw(st.sampled_from(INSTANTS)),
        })
    # The app's rows in its sessions: copies of legacy rows it dual-wrote (marked with their id or
    # not), its own messages (some with a file already in chat-files), and now and then a row of
    # its own that breaks NOT NULL (a documented finding of the constraints phase).
    for n in range(draw(st.integers(0, 3)) if world.sessions else 0):
        session = draw(st.sampled_from(world.sessions))
        sender = draw(st.sampled_from(session["participants"]))
        row = {"id": key(6, n), "session_id": session["id"], "sender_id": sender, "type": "text",
               "content": draw(st.text(TEXT, max_size=10)), "file_url": None, "metadata": "{}",
               "created_at": draw(st.sampled_from(INSTANTS))}
        kind = draw(st.sampled_from(["own", "own file", "dual marked", "dual unmarked", "breaks not null"]))
        twins = [m for m in world.messages if m["booking_id"] == session["id"] and m["sender_id"] == sender]
        if kind.startswith("dual") and twins:
            twin = draw(st.sampled_from(twins))
            row.update(content=twin["content"], created_at=twin["created_at"], file_url=twin["file_url"])
            if kind == "dual marked":
                row["metadata"] = json_text({"legacy_message_id": str(twin["id"])})
        elif kind == "own file":
            name = f"{session['id']}/{sender}/upload-{n}.png"
            world.objects[(TARGET, name)] = b"app upload"
            row["file_url"] = draw(st.sampled_from([f"{TARGET}/{name}",
                                                    f"{PROJECT}/storage/v1/object/authenticated/{TARGET}/{name}"]))
        elif kind == "breaks not null":
            row[draw(st.sampled_from(["type", "created_at"]))] = None
        world.chat_messages.append(row)
    return world


# --- loading it ----------------------------------------------------------------------------------------

LOOSE_LEGACY = "ALTER TABLE public.messages DROP CONSTRAINT IF EXISTS messages_type_check"
JSONB = {"metadata"}


def _insert(conn: psycopg.Connection, name: str, rows: list[dict]) -> None:
    for row in rows:
        columns = list(row)
        values = [sql.SQL("%s::jsonb" if column in JSONB else "%s") for column in columns]
        conn.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier("public", name), sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(values),
            ),
            list(row.values()),
        )


def load(database: LocalDatabase, world: World) -> None:
    """The legacy schema (without its type check: a deployment that never had one) and WORLD."""
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(LOOSE_LEGACY)
        for user, role in world.users:
            conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", [user, f"{user}@example.test"])
            if role:
                conn.execute("INSERT INTO public.profiles (id, role) VALUES (%s, %s)", [user, role])
        _insert(conn, "bookings", world.bookings)
        _insert(conn, "chat_sessions", world.sessions)
        _insert(conn, "chat_messages", world.chat_messages)
        _insert(conn, "messages", world.messages)
        _insert(conn, "voice_notes", world.voice_notes)
    backend = LocalBackend(database.url, database.store_root)
    try:
        for (bucket, name), data in world.objects.items():
            backend.write(bucket, name, data, "application/octet-stream")
    finally:
        backend.close()


# --- what must hold ----------------------------------------------------------------------------------

FATES = """
WITH sources AS (
  SELECT 'messages' AS source_table, id AS source_id FROM public.messages
  UNION ALL SELECT 'voice_notes', id FROM public.voice_notes
),
fates AS (
  SELECT source_table, source_id, fate AS kind FROM consolidation.provenance
  UNION ALL SELECT source_table, source_id, 'quarantined.' || reason FROM consolidation.quarantine
  UNION ALL SELECT source_table, source_id, 'excluded.' || reason FROM consolidation.excluded
)
SELECT s.source_table, s.source_id, array_remove(array_agg(f.kind ORDER BY f.kind), NULL)
FROM sources AS s
LEFT JOIN fates AS f USING (source_table, source_id)
GROUP BY 1, 2
"""
# What the storage phase did with each reference and copy, for the figures.
STORAGE_OUTCOMES = """
SELECT 'reference ' || state, count(*) FROM consolidation.storage_rewrites GROUP BY state
UNION ALL SELECT 'copy ' || state, count(*) FROM consolidation.storage_transfers GROUP BY state
"""
PARTICIPANTS = """
SELECT id, participants FROM public.chat_sessions
WHERE cardinality(participants) = 0 OR array_position(participants, NULL) IS NOT NULL
   OR cardinality(participants) <> (SELECT count(DISTINCT p) FROM unnest(participants) AS p)
"""


def consolidate(
    database: LocalDatabase, phase: str, argv: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([CONSOLIDATE, *argv], env=database.environment(), capture_output=True, text=True,
                          timeout=300)
    output = done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.returncode != 4, f"{phase}: {output[-3000:]}"
    documented = DOCUMENTED_FINDINGS.get(phase)
    assert done.returncode == 0 or (
        done.returncode == 1 and documented and documented in " ".join(output.split())
    ), f"{phase} exited {done.returncode}: {output[-3000:]}"
    FIGURES[f"{phase}: exit {done.returncode}"] += 1
    return done


def source_checksums(database: LocalDatabase) -> dict[str, str]:
    with database.connect() as conn:
        return {name: table_checksum(conn, table(CONFIG, name)).digest for name in BACKUP_TABLES}


def backup_manifest(database: LocalDatabase) -> dict[str, tuple[str, str]]:
    with database.connect() as conn:
        schema = backup.latest_verified(conn, CONFIG)
        rows = conn.execute(
            sql.SQL("SELECT table_name, source_digest, copy_digest FROM {}").format(
                sql.Identifier(schema, "manifest")
            )
        ).fetchall()
    return {name: (source, copy) for name, source, copy in rows}


_numbers = itertools.count()


@pytest.fixture(scope="module")
def figures() -> Iterator[Counter[str]]:
    """The run's figures, printed at its end (shown with -s)."""
    FIGURES.clear()
    yield FIGURES
    print("\nproperty run figures:")
    for name, count in sorted(FIGURES.items()):
        print(f"  {name}: {count:,}")


# A world takes about half a minute through every phase on 2 cores: the whole run is bounded by
# the profile's number of examples, not by the suite's per-test default.
@pytest.mark.timeout(120 + 90 * settings.default.max_examples)
@given(world=worlds())
def test_the_pipeline_ends_clean_on_any_legacy_data(
    local_cluster: LocalCluster, figures: Counter[str], world: World
) -> None:
    database = local_cluster.create(f"property_{next(_numbers)}")
    try:
        load(database, world)
        figures["datasets"] += 1
        figures["source rows"] += len(world.messages) + len(world.voice_notes)
        figures["app rows"] += len(world.chat_messages)
        before = source_checksums(database)
        for phase, argv in PIPELINE.items():
            consolidate(database, phase, argv)

        # The backup holds exactly what the source held.
        assert backup_manifest(database) == {name: (digest, digest) for name, digest in before.items()}
        with database.connect() as conn:
            fated = conn.execute(FATES).fetchall()
            assert conn.execute(PARTICIPANTS).fetchall() == []
            for outcome, count in conn.execute(STORAGE_OUTCOMES):
                figures[f"storage: {outcome}"] += count
        for source_table, source_id, kinds in fated:
            assert len(kinds) == 1, f"{source_table} {source_id} has the fates {kinds}"
            figures[f"fate: {source_table}.{kinds[0]}"] += 1
        assert len(fated) == len(world.messages) + len(world.voice_notes)

        first = faults.fingerprint(database)
        for phase in RERUN:
            consolidate(database, phase, PIPELINE[phase])
        changed = faults.compare(first, faults.fingerprint(database))
        assert [d for d in changed if d.surface not in RERUN_MAY_CHANGE] == []
    finally:
        local_cluster.drop(database)
