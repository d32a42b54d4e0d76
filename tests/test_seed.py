"""The synthetic legacy dataset: every anomaly class present, deterministic to the byte, files stored."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from conftest import consolidate
from consolidation.storage_migration.local_store import LocalStore
from consolidation.storage_migration.references import ForeignReference, ObjectReference, parse_reference
from psycopg import sql

from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.core.errors import UsageError
from consolidation.core.session_key import direct_session_id
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema
from consolidation.seed import SEED_PROJECT_URL, SeedOptions, SeedReport, seed_legacy

SEEDED_TABLES = [
    ("auth", "users"), ("public", "profiles"), ("public", "bookings"), ("public", "messages"),
    ("public", "voice_notes"), ("public", "chat_sessions"), ("public", "chat_messages"),
    ("storage", "objects"), ("storage", "buckets"),
]
BUCKETS = ("chat-attachments", "voice-notes", "chat-files")

# The anomaly classes, a to k, each with the rows that prove it.
ANOMALY_CLASSES = [
    "a_direct_message", "b_no_booking_no_recipient", "c_deleted_booking", "d_unknown_sender",
    "e_voice_note_not_chat", "f_public_url", "f_signed_url", "f_authenticated_url",
    "f_bucket_path", "f_bare_path", "f_percent_encoded", "f_url_in_metadata", "f_foreign_host",
    "g_missing_object", "h_name_with_spaces", "h_name_non_ascii", "h_same_name_in_session",
    "h_zero_byte_file", "i_dual_written_with_legacy_id", "i_dual_written_by_content",
    "j_null_or_empty_text", "j_content_1mb", "k_new_app_session", "k_new_app_message",
    "l_booking_without_reader", "l_booking_user_is_reader", "l_booking_without_participants",
    "m_null_created_at", "n_json_top_level_string", "n_json_top_level_number", "n_json_top_level_boolean",
    "n_json_top_level_null", "n_json_top_level_array", "n_json_1000_deep", "o_url_100kb",
]

# Classes the tables alone can prove, counted here independently of the seed's own query.
DATA_COUNTS = {
    "a_direct_message":
        "SELECT count(*) FROM messages WHERE booking_id IS NULL AND recipient_id IS NOT NULL",
    "b_no_booking_no_recipient":
        "SELECT count(*) FROM messages WHERE booking_id IS NULL AND recipient_id IS NULL",
    "c_deleted_booking": "SELECT count(*) FROM messages m WHERE m.booking_id IS NOT NULL "
                         "AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = m.booking_id)",
    "d_unknown_sender": "SELECT (SELECT count(*) FROM messages m WHERE m.sender_id NOT IN "
                        "(SELECT id FROM auth.users)) + (SELECT count(*) FROM voice_notes v "
                        "WHERE v.user_id NOT IN (SELECT id FROM auth.users))",
    "e_voice_note_not_chat": "SELECT count(*) FROM voice_notes WHERE context_type <> 'chat'",
    "j_null_or_empty_text":
        "SELECT count(*) FROM messages WHERE type = 'text' AND coalesce(content, '') = ''",
    "j_content_1mb": "SELECT count(*) FROM messages WHERE octet_length(content) >= 1048576",
    "i_dual_written_with_legacy_id": "SELECT count(*) FROM chat_messages c WHERE EXISTS (SELECT 1 FROM "
                                     "messages m WHERE m.id::text = c.metadata->>'legacy_message_id' "
                                     "UNION ALL SELECT 1 FROM voice_notes v "
                                     "WHERE v.id::text = c.metadata->>'legacy_message_id')",
    "l_booking_without_reader": "SELECT count(*) FROM messages m JOIN bookings b ON b.id = m.booking_id "
                                "WHERE b.reader_id IS NULL AND b.user_id IS NOT NULL",
    "l_booking_user_is_reader": "SELECT count(*) FROM messages m JOIN bookings b ON b.id = m.booking_id "
                                "WHERE b.reader_id = b.user_id",
    "l_booking_without_participants": "SELECT count(*) FROM messages m JOIN bookings b "
                                      "ON b.id = m.booking_id WHERE coalesce(b.user_id, b.reader_id) IS NULL",
    "m_null_created_at": "SELECT count(*) FROM messages WHERE created_at IS NULL",
    "n_json_top_level_string": "SELECT count(*) FROM messages WHERE metadata::text LIKE '\"%'",
    "n_json_top_level_array": "SELECT count(*) FROM messages WHERE metadata::text LIKE '[%'",
    # 1,000 levels: as many opening brackets before the URL at its bottom
    "n_json_1000_deep": "SELECT count(*) FROM messages WHERE length(regexp_replace("
                        "split_part(metadata::text, '\"http', 1), '[^[{]', '', 'g')) >= 1000",
    "o_url_100kb": "SELECT count(*) FROM messages WHERE length(file_url) > 100000",
    "k_new_app_session": "SELECT count(*) FROM chat_sessions s WHERE NOT EXISTS (SELECT 1 FROM messages m "
                         "WHERE m.booking_id = s.id) AND NOT EXISTS (SELECT 1 FROM voice_notes v "
                         "WHERE v.context_id = s.id) AND NOT EXISTS (SELECT 1 FROM chat_messages c "
                         "WHERE c.session_id = s.id AND NOT c.metadata ? 'app_version')",
}


@dataclass(frozen=True)
class Seeded:
    database: LocalDatabase
    report: SeedReport


@pytest.fixture(scope="module")
def seeded_twice(local_cluster: LocalCluster) -> Iterator[tuple[Seeded, Seeded]]:
    """Two fresh databases seeded with the same options."""
    made = []
    try:
        for name in ("test_seed_first", "test_seed_second"):
            database = local_cluster.create(name)
            report = seed_legacy(database.url, database.store_root, SeedOptions.small())
            made.append(Seeded(database, report))
        yield made[0], made[1]
    finally:
        for seeded in made:
            local_cluster.drop(seeded.database)


def _checksums(database: LocalDatabase) -> dict[tuple[str, str], str]:
    with database.connect() as conn:
        return {table: table_checksum(conn, sql.Identifier(*table)).digest for table in SEEDED_TABLES}


def _file_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in root.rglob("*") if path.is_file()
    }


@pytest.mark.parametrize("anomaly", ANOMALY_CLASSES)
def test_every_anomaly_class_is_present(seeded_twice: tuple[Seeded, Seeded], anomaly: str) -> None:
    assert seeded_twice[0].report.anomalies[anomaly] > 0


def test_the_report_names_exactly_the_anomaly_classes(seeded_twice: tuple[Seeded, Seeded]) -> None:
    assert list(seeded_twice[0].report.anomalies) == ANOMALY_CLASSES


@pytest.mark.parametrize("anomaly", sorted(DATA_COUNTS))
def test_reported_counts_are_what_the_tables_hold(
    seeded_twice: tuple[Seeded, Seeded], anomaly: str
) -> None:
    first = seeded_twice[0]
    with first.database.connect() as conn:
        assert conn.execute(DATA_COUNTS[anomaly]).fetchone()[0] == first.report.anomalies[anomaly]


def test_same_seed_gives_identical_tables_and_files(seeded_twice: tuple[Seeded, Seeded]) -> None:
    first, second = seeded_twice
    assert _checksums(first.database) == _checksums(second.database)
    assert first.report.counts == second.report.counts
    assert first.report.anomalies == second.report.anomalies
    first_files = _file_digests(first.database.store_root)
    assert first_files and first_files == _file_digests(second.database.store_root)


def test_another_seed_gives_other_data(
    local_cluster: LocalCluster, seeded_twice: tuple[Seeded, Seeded]
) -> None:
    database = local_cluster.create("test_seed_other")
    try:
        small = SeedOptions.small()
        seed_legacy(database.url, database.store_root, SeedOptions(
            users=small.users, bookings=small.bookings, messages=small.messages,
            voice_notes=small.voice_notes, seed=small.seed + 1))
        ours, theirs = _checksums(database), _checksums(seeded_twice[0].database)
        # Buckets are the same three on every seed; everything else differs.
        assert all(ours[table] != theirs[table] for table in SEEDED_TABLES if table[1] != "buckets")
    finally:
        local_cluster.drop(database)


def test_every_object_row_has_its_bytes_in_the_file_backend_layout(
    seeded_twice: tuple[Seeded, Seeded],
) -> None:
    database = seeded_twice[0].database
    with database.connect() as conn:
        rows = conn.execute("SELECT bucket_id, name, version, metadata FROM storage.objects").fetchall()
    assert len(rows) == seeded_twice[0].report.files_written
    for bucket, name, version, metadata in rows:
        data = (database.store_root / "stub" / "stub" / bucket / name / version).read_bytes()
        assert metadata["size"] == metadata["contentLength"] == len(data)
        assert metadata["eTag"] == f'"{hashlib.md5(data).hexdigest()}"'


# Every string anywhere in a message's metadata (a bare JSON string too), found by the database:
# the seed's metadata is nested 1,000 deep, deeper than Python's JSON parser goes.
METADATA_URLS = """
SELECT s #>> '{}' FROM messages AS m, jsonb_path_query(m.metadata, 'strict $.**') AS s
WHERE m.metadata::text LIKE '%/storage/v1/%'
  AND jsonb_typeof(s) = 'string' AND s #>> '{}' LIKE '%/storage/v1/%'
"""


def _references(conn: psycopg.Connection) -> Iterator[tuple[str, str, str]]:
    """(table, bucket a bare path means there, reference) of every file reference, metadata URLs too."""
    for (file_url,) in conn.execute("SELECT file_url FROM messages WHERE file_url IS NOT NULL"):
        yield "messages", "chat-attachments", file_url
    for (url,) in conn.execute(METADATA_URLS):
        yield "metadata", "chat-attachments", url
    for (file_url,) in conn.execute("SELECT file_url FROM voice_notes"):
        yield "voice_notes", "voice-notes", file_url


def test_every_reference_resolves_to_a_stored_object_or_a_known_anomaly(
    seeded_twice: tuple[Seeded, Seeded],
) -> None:
    seeded = seeded_twice[0]
    styles, missing, foreign = set(), set(), 0
    with seeded.database.connect() as conn:
        store = LocalStore(conn, seeded.database.store_root)
        for table, context_bucket, raw in _references(conn):
            reference = parse_reference(raw, project_url=SEED_PROJECT_URL, known_buckets=BUCKETS)
            if isinstance(reference, ForeignReference):
                foreign += table != "metadata"
                continue
            assert isinstance(reference, ObjectReference)
            styles.add(reference.style.value)
            bucket = reference.bucket or context_bucket
            info = store.info(bucket, reference.path)
            if info is None:
                missing.add((bucket, reference.path))
                continue
            data = store.get(bucket, reference.path)
            assert (len(data), hashlib.md5(data).hexdigest()) == (info.size, info.etag)
    assert styles >= {"public_url", "signed_url", "authenticated_url", "bucket_path", "path", "render_url"}
    assert foreign == seeded.report.anomalies["f_foreign_host"]
    assert len(missing) == seeded.report.anomalies["g_missing_object"]


def test_direct_sessions_of_the_newer_app_have_the_id_merge_derives(
    seeded_twice: tuple[Seeded, Seeded],
) -> None:
    namespace = Config().session_rule.direct_namespace
    with seeded_twice[0].database.connect() as conn:
        rows = conn.execute(
            "SELECT s.id, s.participants FROM chat_sessions s WHERE s.type = 'direct' "
            "AND EXISTS (SELECT 1 FROM voice_notes v WHERE v.context_id = s.id)"
        ).fetchall()
    assert rows
    for session_id, (a, b) in rows:
        assert session_id == direct_session_id(namespace, a, b)


def test_seeding_a_seeded_database_needs_reset_and_reset_reseeds_identically(
    legacy_template: LocalDatabase, legacy_db: LocalDatabase,
) -> None:
    with pytest.raises(UsageError, match="--reset"):
        seed_legacy(legacy_db.url, legacy_db.store_root, SeedOptions.small())

    report = seed_legacy(legacy_db.url, legacy_db.store_root, SeedOptions.small(), reset=True)

    assert report.reset
    assert _checksums(legacy_db) == _checksums(legacy_template)
    assert _file_digests(legacy_db.store_root) == _file_digests(legacy_template.store_root)


def test_reset_refuses_legacy_data_the_seed_did_not_make(empty_db: LocalDatabase) -> None:
    with empty_db.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(
            "INSERT INTO bookings (id, user_id, reader_id, status) VALUES (%s, %s, %s, 'active')",
            (uuid.uuid4(), uuid.uuid4(), uuid.uuid4()),
        )
    with pytest.raises(UsageError, match="not made by"):
        seed_legacy(empty_db.url, empty_db.store_root, SeedOptions.small(), reset=True)
    with empty_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (SeedOptions(messages=-1), "--messages must not be negative"),
        (SeedOptions(voice_notes=-5), "--voice-notes must not be negative"),
        (SeedOptions(users=3), "--users must be at least"),
        (SeedOptions(bookings=0), "--bookings must be at least 1"),
    ],
)
def test_impossible_sizes_are_usage_errors(options: SeedOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        options.validate()


def test_the_cli_seeds_prints_every_class_and_refuses_to_seed_twice(empty_db: LocalDatabase) -> None:
    command = ["stack", "seed", "--messages", "800", "--users", "16", "--bookings", "30", "--voice-notes",
               "100", "--seed", "7"]
    first = consolidate(empty_db, *command)
    assert first.returncode == 0, first.stderr
    for anomaly in ANOMALY_CLASSES:
        assert anomaly in first.stdout
    with empty_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 800

    again = consolidate(empty_db, *command)
    assert again.returncode == 2
    assert "--reset" in again.stderr
    assert "a_direct_message" not in again.stdout
