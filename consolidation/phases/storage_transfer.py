"""Move referenced files into chat-files/<session>/<sender>/<name>: plan, apply, verify, rollback.

Apply is copy -> verify (size + sha256 against the inventory) -> rewrite references -> delete
the source, each step recorded in the transfer journal so a killed run resumes: a copy whose
record is missing is found at its destination and verified, rewrites commit with their
journal row, and a source is deleted only once every copy of it is verified and rewritten.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from consolidation.core import crash as crash_points
from consolidation.core import db, journal, sqlfiles
from consolidation.core.config import Config
from consolidation.core.errors import FindingsError
from consolidation.core.names import identifiers
from consolidation.phases.contract import Step
from consolidation.storage_migration.backends.base import Copied, ObjectRefused, StorageBackend
from consolidation.storage_migration.inventory import (
    REFERENCE_QUERIES,
    REFERENCE_SITES,
    InventoryObject,
    Located,
    ProgressCallback,
    content_etag,
    load_inventory,
    locate,
    proved_by_etag,
    reference_sites_sql,
    scan_references,
    sha256_of,
    take_inventory,
)
from consolidation.storage_migration.reachability import bucket_visibility, form_problem
from consolidation.storage_migration.references import (
    api_key,
    disambiguated_name,
    rewritten_reference,
    safe_file_name,
    shown,
)

PHASE = "storage"
UNPROVABLE = (
    "the Storage API cannot read this key and the server records no content hash to prove a copy by"
)
UNREFERENCED_FOLDER = "unreferenced"
# Sources removed per call (the Storage API takes up to 1,000 names a request).
REMOVE_CHUNK = 500
REWRITE_BATCH = 500
# Copies asked of the backend at once (it makes them concurrently); their journal rows commit together.
COPY_BATCH = 500
# The columns holding JSON: a reference there is a string inside it (or the whole value).
JSON_COLUMNS = ("metadata",)
# The rewrite statements by (in JSON?, a set of references?), rendered for each place.
REWRITES = {
    (False, False): "storage/060_rewrite_column.sql",
    (True, False): "storage/061_rewrite_json.sql",
    (False, True): "storage/068_rewrite_column_set.sql",
    (True, True): "storage/069_rewrite_json_set.sql",
}
Key = tuple[str, str]
Location = tuple[str, uuid.UUID, str, list[str]]


@dataclass(frozen=True)
class Transfer:
    """One copy of a legacy object into the target bucket."""

    source_bucket: str
    source_name: str
    dest_bucket: str
    dest_name: str
    session_id: uuid.UUID | None = None
    sender_id: uuid.UUID | None = None
    state: str = "planned"
    detail: str | None = None

    @property
    def source(self) -> Key:
        return (self.source_bucket, self.source_name)

    @property
    def folder(self) -> str:
        return self.dest_name.rpartition("/")[0]


@dataclass(frozen=True)
class Rewrite:
    """One reference's text before and after, where it lives, and the copy it now names."""

    table_name: str
    row_id: uuid.UUID
    column_name: str
    json_path: tuple[str, ...]
    old_value: str
    new_value: str
    source_bucket: str
    source_name: str
    dest_name: str


@dataclass
class StoragePlan:
    """What apply would do from here: new copies and rewrites, and everything it leaves alone."""

    transfers: list[Transfer]
    new_transfers: list[Transfer]
    rewrites: list[Rewrite]
    missing: list[Located]
    foreign: list[Located]
    outside_chat: dict[Key, list[Located]]
    unreferenced: list[InventoryObject]
    inventory: dict[Key, InventoryObject]
    # References to objects the backend cannot read and no recorded content hash could prove a
    # copy of: left in place, each with its reason.
    unprovable: list[Located] = field(default_factory=list)

    @property
    def unwritable(self) -> list[Key]:
        """Sources copied but never deleted: the Storage API cannot write their keys, so a
        rollback could not put them back."""
        return sorted({t.source for t in self.transfers if not api_key(t.source_name)})

    @property
    def counts(self) -> dict[str, int]:
        return {
            "legacy objects": len(self.inventory),
            "copies (all)": len(self.transfers),
            "copies to make": len(self.new_transfers),
            "references to rewrite": len(self.rewrites),
            "references to missing objects (left unchanged)": len(self.missing),
            "references to other hosts or projects (left alone)": len(self.foreign),
            "objects kept for rows outside the chat": len(self.outside_chat),
            "unreferenced objects": len(self.unreferenced),
            "references to objects no copy of can be proved (left in place)": len(self.unprovable),
            "sources kept (keys the Storage API cannot restore)": len(self.unwritable),
        }


@dataclass(frozen=True)
class Finding:
    check: str
    where: str
    detail: str


@dataclass
class StorageResult:
    counts: dict[str, int] = field(default_factory=dict)
    failed: list[Transfer] = field(default_factory=list)
    # References the database refused to plan or rewrite: left as they were, with its error.
    refused: list[Finding] = field(default_factory=list)


def where_of(table_name: str, row_id: uuid.UUID, column_name: str, json_path: Iterable[str]) -> str:
    """A reference's place for output: table, row, column and JSON path (long paths shortened)."""
    return shown(f"{table_name} {row_id} {column_name}" + "".join(f"[{part}]" for part in json_path))


@dataclass
class StorageReport:
    """verify's outcome: discrepancies (findings) and what was left alone on purpose (notes)."""

    findings: list[Finding] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    checked: int = 0

    @property
    def clean(self) -> bool:
        return not self.findings


class CrashPoint:
    """The storage phase's crash points ("storage.copy", "storage.rewrite"...), in core.crash."""

    @classmethod
    def from_environment(cls) -> CrashPoint:
        return cls()

    def tick(self, step: str) -> None:
        crash_points.point(f"storage.{step}")


# --- SQL ------------------------------------------------------------------------------------


def _render(config: Config, relative: str, extra: dict[str, sql.Identifier] | None = None) -> str:
    return sqlfiles.render(relative, {**identifiers(config), **(extra or {})})


def _target_names(config: Config, table_name: str, column_name: str) -> dict[str, sql.Identifier]:
    columns = getattr(config.columns, table_name)
    return {
        "target": identifiers(config)[table_name],
        "target.id": sql.Identifier(columns.id),
        "target.column": sql.Identifier(getattr(columns, column_name)),
    }


def _rewrite_sql(
    config: Config, table_name: str, column_name: str, in_json: bool, *, many: bool = False
) -> str:
    """The rewrite of one reference at TABLE_NAME's COLUMN_NAME, or (MANY) of a set of them."""
    return _render(config, REWRITES[(in_json, many)], _target_names(config, table_name, column_name))


def statements(config: Config) -> list[Step]:
    """Every statement the phase runs, rendered as it runs (rewrites shown for each location)."""
    # The reference queries run composed with the JSON walk (025): shown as they run.
    composed = (*REFERENCE_QUERIES, REFERENCE_SITES, *REWRITES.values())
    steps = [
        Step(PHASE, path.split("/")[-1].removesuffix(".sql"), _render(config, path))
        for path in sqlfiles.files("storage")
        if not path.startswith(composed)
    ]
    steps += [
        Step(PHASE, query.split("/")[-1].removesuffix(".sql"), reference_sites_sql(config, query))
        for query in REFERENCE_QUERIES
    ]
    for table_name, column_name, in_json in (
        ("chat_messages", "file_url", False),
        ("chat_messages", "metadata", True),
        ("messages", "file_url", False),
        ("messages", "metadata", True),
        ("voice_notes", "file_url", False),
    ):
        steps.append(
            Step(PHASE, f"rewrite_{table_name}_{column_name}",
                 _rewrite_sql(config, table_name, column_name, in_json, many=True))
        )
        steps.append(
            Step(PHASE, f"rewrite_{table_name}_{column_name}_one",
                 _rewrite_sql(config, table_name, column_name, in_json))
        )
    return steps


def install(conn: psycopg.Connection, config: Config) -> None:
    """The tool schema, the storage journal included; idempotent."""
    journal.install(conn, config)


def installed(conn: psycopg.Connection, config: Config) -> bool:
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        [sqlfiles.quote(identifiers(config)["tool.storage_transfers"])],
    ).fetchone()
    return bool(found and found[0])


def load_transfers(conn: psycopg.Connection, config: Config) -> list[Transfer]:
    if not installed(conn, config):
        return []
    return [Transfer(*row) for row in conn.execute(_render(config, "storage/045_transfers.sql"))]


# --- plan -----------------------------------------------------------------------------------


def listed_inventory(
    conn: psycopg.Connection, config: Config, backend: StorageBackend
) -> dict[Key, InventoryObject]:
    """The recorded inventory plus objects listed since (unhashed): what plan may read without writing."""
    known = load_inventory(conn, config) if installed(conn, config) else {}
    for bucket in config.storage.legacy_buckets:
        for info in backend.list(bucket):
            known.setdefault(
                (bucket, info.name),
                InventoryObject(bucket, info.name, info.size, "", info.etag, info.content_type),
            )
    return known


def build_plan(
    conn: psycopg.Connection,
    config: Config,
    backend: StorageBackend,
    inventory: dict[Key, InventoryObject],
) -> StoragePlan:
    """Where every referenced legacy object goes and how each reference reads afterwards."""
    storage = config.storage
    existing = load_transfers(conn, config)
    located = [found for site in scan_references(conn, config) if (found := locate(site, config, inventory))]
    # A source the backend cannot read is proved by the server's content hash; without one, its
    # references stay as they are (and it stays where it is).
    unprovable_keys = {
        key for key, item in inventory.items()
        if not backend.readable(item.name) and content_etag(item.etag) is None
    }
    unprovable = [
        Located(found.site, found.kind, found.reference, found.key, UNPROVABLE)
        for found in located if found.kind == "legacy" and found.key in unprovable_keys
    ]
    legacy = [found for found in located if found.kind == "legacy" and found.key not in unprovable_keys]
    outside: dict[Key, list[Located]] = defaultdict(list)
    wanted: set[tuple[Key, str]] = set()
    for found in legacy:
        assert found.key is not None
        if found.site.folder is None:
            outside[found.key].append(found)
        else:
            wanted.add((found.key, found.site.folder))
    referenced = {found.key for found in located if found.key}
    unreferenced = sorted(
        (item for key, item in inventory.items() if key not in referenced), key=lambda item: item.key
    )
    if storage.move_unreferenced:
        wanted |= {
            (item.key, f"{UNREFERENCED_FOLDER}/{item.bucket}")
            for item in unreferenced if item.key not in unprovable_keys
        }
    taken = {item.name for item in backend.list(storage.target_bucket)}
    destinations, new = _destinations(config, wanted, existing, taken)
    rewrites = []
    for found in legacy:
        assert found.key is not None and found.reference is not None
        if found.site.folder is None:
            continue
        dest_name = destinations[(found.key, found.site.folder)]
        new_value = rewritten_reference(
            found.reference, storage.target_bucket, dest_name,
            forms=storage.reference_forms, project_url=storage.project_url,
        )
        site = found.site
        rewrites.append(
            Rewrite(site.table_name, site.row_id, site.column_name, site.json_path, site.raw, new_value,
                    found.key[0], found.key[1], dest_name)
        )
    return StoragePlan(
        transfers=[*existing, *new],
        new_transfers=new,
        rewrites=rewrites,
        missing=[found for found in located if found.kind == "missing"],
        foreign=[found for found in located if found.kind == "foreign"],
        outside_chat=dict(outside),
        unreferenced=unreferenced,
        inventory=inventory,
        unprovable=unprovable,
    )


def left_alone(plan: StoragePlan) -> list[tuple[str, str]]:
    """Each reference the plan leaves alone, once, as (where, why): a legacy row and the chat
    message merge made of it hold the same reference, so the two are one entry naming both."""
    groups: dict[tuple, list[Located]] = defaultdict(list)
    for found in [*plan.missing, *plan.foreign, *plan.unprovable]:
        site = found.site
        origin = (site.context, site.copy_of) if site.copy_of else (site.table_name, site.row_id)
        groups[(*origin, site.column_name, site.json_path, site.raw)].append(found)
    entries = []
    for (table_name, row_id, column_name, json_path, _), group in groups.items():
        copies = sorted(f"{f.site.table_name} {f.site.row_id}" for f in group if f.site.copy_of)
        held = any(not f.site.copy_of for f in group)
        where = where_of(table_name, row_id, column_name, json_path) if held else \
            where_of(group[0].site.table_name, group[0].site.row_id, column_name, json_path)
        if held and copies:
            where += f" (chat copy {', '.join(copies)})"
        entries.append((table_name, str(row_id), column_name, json_path, where, group[0].reason))
    return [(where, reason) for *_, where, reason in sorted(entries)]


def _destinations(
    config: Config, wanted: set[tuple[Key, str]], existing: list[Transfer], taken: set[str]
) -> tuple[dict[tuple[Key, str], str], list[Transfer]]:
    """Each (source, folder) its destination name: the journal's if planned before, else a new one.

    In a folder, the first source (by bucket/name) of a file name gets the plain name unless an
    object already holds it; every other source gets disambiguated_name, stable per source.
    """
    chosen = {(transfer.source, transfer.folder): transfer.dest_name for transfer in existing}
    holder = {transfer.dest_name: transfer.source for transfer in existing}
    groups: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for key, folder in sorted(wanted - chosen.keys()):
        leaf = _leaf(key, folder)
        groups[(folder, leaf)].append(key)
    new = []
    for (folder, leaf), keys in sorted(groups.items()):
        for position, key in enumerate(keys):
            plain = f"{folder}/{leaf}"
            free = plain not in holder and plain not in taken
            name = plain if position == 0 and free else f"{folder}/{disambiguated_name(leaf, '/'.join(key))}"
            if holder.get(name, key) != key or (name in taken and name not in holder):
                raise RuntimeError(f"destination {name} is taken by another object")
            holder[name] = key
            chosen[(key, folder)] = name
            session, sender = _folder_ids(folder)
            new.append(Transfer(key[0], key[1], config.storage.target_bucket, name, session, sender))
    return chosen, new


def _leaf(key: Key, folder: str) -> str:
    if folder.startswith(f"{UNREFERENCED_FOLDER}/"):
        # An unreferenced object keeps its whole path, each segment made safe.
        return "/".join(safe_file_name(part) for part in key[1].split("/") if part not in ("", ".", ".."))
    return safe_file_name(key[1])


def _folder_ids(folder: str) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    try:
        session, sender = folder.split("/")
        return uuid.UUID(session), uuid.UUID(sender)
    except ValueError:
        return None, None


def record_plan(
    conn: psycopg.Connection, config: Config, plan: StoragePlan
) -> tuple[list[Finding], set[Key]]:
    """Write the new copies and rewrites in one transaction: a killed run finds all or none.

    Should the database refuse one of them, they are written again one by one in one
    transaction, and the ones it refuses are left out (each returned with its error) instead of
    stopping the phase for them; so are the sources they name, which must stay where they are.
    """
    transfers = [transfer.__dict__ for transfer in plan.new_transfers]
    rewrites = [{**rewrite.__dict__, "json_path": list(rewrite.json_path)} for rewrite in plan.rewrites]
    transfer_sql = _render(config, "storage/040_plan_transfer.sql")
    rewrite_sql = _render(config, "storage/041_plan_rewrite.sql")
    try:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(transfer_sql, transfers)
            cursor.executemany(rewrite_sql, rewrites)
        return [], set()
    except psycopg.DatabaseError as exc:
        if not db.is_row_error(exc):
            raise
    refused: list[Finding] = []
    kept: set[Key] = set()
    with conn.transaction():
        for row in transfers:
            if error := _refused(conn, transfer_sql, row):
                refused.append(Finding("plan_refused", shown(f"{row['source_bucket']}/{row['source_name']}"),
                                       error))
        for row in rewrites:
            if error := _refused(conn, rewrite_sql, row):
                where = where_of(row["table_name"], row["row_id"], row["column_name"], row["json_path"])
                refused.append(Finding("plan_refused", where, error))
                # Its copy may count as done without it: the source it still names is kept.
                kept.add((row["source_bucket"], row["source_name"]))
    return refused, kept


def _refused(conn: psycopg.Connection, statement: str, parameters: dict) -> str | None:
    """Run STATEMENT in a savepoint; the database's error when it refuses the row, else None."""
    try:
        with conn.transaction():
            conn.execute(statement, parameters)
    except psycopg.DatabaseError as exc:
        if not db.is_row_error(exc):
            raise
        return db.error_text(exc)
    return None


# --- apply ----------------------------------------------------------------------------------


def _first_read(backend: StorageBackend, listed: InventoryObject, outcome: Copied) -> InventoryObject:
    """The source as its copy first read it: the bytes the copy was made of, or (a copy an
    earlier run made, its source never hashed) the source's bytes read now."""
    if outcome.made:
        return replace(listed, size=outcome.size, sha256=outcome.sha256)
    size, digest = sha256_of(backend, *listed.key)
    return replace(listed, size=size, sha256=digest)


def _judged(outcome: Copied | Exception, expected: InventoryObject) -> tuple[str, str | None, str | None]:
    """(state, sha256 of the copy, why it failed) of one copy copy_many made or found."""
    if isinstance(outcome, FileNotFoundError):
        return "failed", None, "source vanished before it was copied"
    if isinstance(outcome, Exception):
        return "failed", None, f"{type(outcome).__name__}: {outcome}"
    size, digest = outcome.size, outcome.sha256
    recorded = content_etag(expected.etag)
    if expected.sha256 is None:
        # The backend could not read the source: the server's own record of the copy (its
        # size and content hash) must match its record of the source.
        if proved_by_etag(expected, size, outcome.etag):
            return "verified", digest, None
        return "failed", digest, (
            f"copy has {size} bytes ETag {outcome.etag}, the source had {expected.size} bytes "
            f"ETag {expected.etag}" + ("" if recorded else " (not a content hash: nothing proves the copy)")
        )
    if recorded and content_etag(outcome.etag) not in (None, recorded):
        # A server-side copy the server records with another content hash than its source.
        return "failed", digest, f"copy has ETag {outcome.etag}, the source had ETag {expected.etag}"
    if (size, digest) != (expected.size, expected.sha256):
        return "failed", digest, (
            f"copy has {size} bytes sha256 {digest[:12]}, inventory says {expected.size} bytes "
            f"sha256 {expected.sha256[:12]}"
        )
    return "verified", digest, None


def copy_pending(
    conn: psycopg.Connection,
    config: Config,
    backend: StorageBackend,
    transfers: Iterable[Transfer],
    inventory: dict[Key, InventoryObject],
    *,
    on_progress: ProgressCallback | None = None,
    crash: CrashPoint | None = None,
) -> tuple[int, list[Transfer]]:
    """Copy and verify every planned (or earlier failed) transfer, COPY_BATCH at a time: the
    backend makes a batch's copies concurrently and hashes what each destination holds (as its
    bytes are written, or read back), and the batch's journal rows commit together."""
    todo = [transfer for transfer in transfers if transfer.state in ("planned", "failed")]
    statement = _render(config, "storage/050_transfer_state.sql")
    record_hash = _render(config, "storage/035_inventory_hash.sql")
    verified, failed = 0, []
    for batch in _batches(todo, COPY_BATCH):
        outcomes = backend.copy_many([(*t.source, t.dest_bucket, t.dest_name) for t in batch])
        rows, first_read = [], {}
        for transfer, outcome in zip(batch, outcomes, strict=True):
            if crash:
                crash.tick("copy")
            expected = inventory[transfer.source]
            if expected.sha256 == "" and isinstance(outcome, Copied):  # hashed by its copy
                try:
                    expected = first_read.get(transfer.source) or _first_read(backend, expected, outcome)
                except (OSError, ValueError) as exc:
                    outcome = exc
                else:
                    first_read[transfer.source] = inventory[transfer.source] = expected
            state, digest, detail = _judged(outcome, expected)
            rows.append({"state": state, "dest_sha256": digest, "detail": detail,
                         "source_bucket": transfer.source_bucket, "source_name": transfer.source_name,
                         "dest_name": transfer.dest_name})
            if state == "verified":
                verified += 1
            else:
                failed.append(Transfer(**{**transfer.__dict__, "state": state, "detail": detail}))
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(record_hash, [item.__dict__ for item in first_read.values()])
            cursor.executemany(statement, rows)
        if on_progress:
            on_progress(len(batch), sum(inventory[transfer.source].size for transfer in batch))
    return verified, failed


def _batches(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


Outcome = tuple[Location, str, str | None]


def _swap_references(
    conn: psycopg.Connection,
    config: Config,
    rows: list[tuple],
    *,
    restore: bool,
    after: Callable[[list[Outcome]], None],
) -> None:
    """Write each reference's new value (or, restoring, its old one) where it still holds the other.

    Batches commit with whatever AFTER records for their references (each one's state:
    rewritten, stale when someone changed it meanwhile and it was left alone, or failed with the
    database's error), so the journal and the tables move together. A batch's references at one
    column are written by one statement (JSON ones in rounds, one string per row a round);
    should the database refuse it, that round is written again a reference at a time, each in a
    savepoint: one the database refuses is left as it was and never undoes the rest.
    """
    for batch in _batches(rows, REWRITE_BATCH):
        outcomes: list[Outcome] = []
        with conn.transaction():
            # The tool's own rewrite of a legacy row is not an app write: capture leaves it alone.
            conn.execute("SELECT set_config('consolidation.writer', 'storage', true)")
            for location, round_rows in _rounds(batch):
                outcomes += _swap_round(conn, config, location, round_rows, restore=restore)
            after(outcomes)


def _rounds(batch: list[tuple]) -> Iterator[tuple[tuple[str, str, bool], list[tuple]]]:
    """BATCH's references by place (table, column), in rounds that hold each row at most once."""
    places: dict[tuple[str, str, bool], list[list[tuple]]] = defaultdict(list)
    seen: dict[tuple[str, str, uuid.UUID], int] = defaultdict(int)
    for row in batch:
        table_name, row_id, column_name = row[:3]
        rounds = places[(table_name, column_name, column_name in JSON_COLUMNS)]
        # A row's n-th reference at this place goes in the n-th round.
        number = seen[(table_name, column_name, row_id)]
        seen[(table_name, column_name, row_id)] += 1
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(row)
    for location, rounds in places.items():
        for round_rows in rounds:
            yield location, round_rows


def _swap_round(
    conn: psycopg.Connection, config: Config, location: tuple[str, str, bool], rows: list[tuple],
    *, restore: bool,
) -> list[Outcome]:
    swaps = [
        ((table_name, row_id, column_name, json_path), *((new, old) if restore else (old, new)))
        for table_name, row_id, column_name, json_path, old, new in rows
    ]
    parameters = {"row_ids": [site[1] for site, _, _ in swaps],
                  "from_values": [from_value for _, from_value, _ in swaps],
                  "to_values": [to_value for _, _, to_value in swaps]}
    if location[2]:
        parameters["paths"] = [Jsonb(list(site[3])) for site, _, _ in swaps]
    try:
        with conn.transaction():
            changed = {row[0] for row in conn.execute(_rewrite_sql(config, *location, many=True), parameters)}
        return [(site, "rewritten" if site[1] in changed else "stale", None) for site, _, _ in swaps]
    except psycopg.DatabaseError as exc:
        if not db.is_row_error(exc):
            raise
    one = _rewrite_sql(config, *location)
    outcomes: list[Outcome] = []
    for site, from_value, to_value in swaps:
        try:
            with conn.transaction():
                count = conn.execute(one, {"row_id": site[1], "json_path": site[3],
                                           "from_value": from_value, "to_value": to_value}).rowcount
        except psycopg.DatabaseError as exc:
            if not db.is_row_error(exc):
                raise
            outcomes.append((site, "failed", db.error_text(exc)))
            continue
        outcomes.append((site, "rewritten" if count else "stale", None))
    return outcomes


def rewrite_pending(
    conn: psycopg.Connection, config: Config, *, crash: CrashPoint | None = None
) -> tuple[dict[str, int], list[Finding]]:
    """Rewrite every reference whose copy is verified; each batch commits with its journal rows.
    Returns the counts by outcome, and the references the database refused (left as they were)."""
    pending = conn.execute(_render(config, "storage/063_pending_rewrites.sql")).fetchall()
    state_sql = _render(config, "storage/062_rewrite_state.sql")
    counts = {"rewritten": 0, "stale": 0, "failed": 0}
    refused: list[Finding] = []

    def record(outcomes: list[Outcome]) -> None:
        for location, state, detail in outcomes:
            counts[state] += 1
            if detail:
                refused.append(Finding("rewrite_failed", where_of(*location), detail))
            if crash:
                crash.tick("rewrite")
        with conn.cursor() as cursor:
            cursor.executemany(state_sql, [
                {"state": state, "detail": detail, "table_name": table_name, "row_id": row_id,
                 "column_name": column_name, "json_path": json_path}
                for (table_name, row_id, column_name, json_path), state, detail in outcomes
            ])

    _swap_references(conn, config, pending, restore=False, after=record)
    conn.execute(_render(config, "storage/070_transfers_rewritten.sql"))
    return counts, refused


def delete_sources(
    conn: psycopg.Connection,
    config: Config,
    backend: StorageBackend,
    keep: set[Key],
    *,
    crash: CrashPoint | None = None,
) -> int:
    """Delete each source all of whose copies are verified and rewritten, unless it must stay."""
    deletable = [
        (bucket, name)
        for bucket, name in conn.execute(_render(config, "storage/080_deletable_sources.sql"))
        if (bucket, name) not in keep
    ]
    statement = _render(config, "storage/081_source_deleted.sql")
    by_bucket: dict[str, list[str]] = defaultdict(list)
    for bucket, name in deletable:
        by_bucket[bucket].append(name)
    for bucket, names in sorted(by_bucket.items()):
        for chunk in _batches(names, REMOVE_CHUNK):
            backend.remove(bucket, chunk)
            if crash:
                crash.tick("delete")
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(
                    statement, [{"source_bucket": bucket, "source_name": name} for name in chunk]
                )
    return len(deletable)


def apply(
    conn: psycopg.Connection,
    config: Config,
    backend: StorageBackend,
    *,
    on_progress: ProgressCallback | None = None,
    on_total: Callable[[int, int], None] | None = None,
    crash: CrashPoint | None = None,
    planned: StoragePlan | None = None,
) -> StorageResult:
    """Inventory, plan, copy + verify, rewrite, then delete verified sources; resumes a killed run.

    PLANNED is the plan the operator previewed (its copies and rewrites are what run); without
    it the plan is made here."""
    install(conn, config)
    plan = planned or build_plan(conn, config, backend, listed_inventory(conn, config, backend))
    copied_sources = {t.source for t in plan.transfers if t.state in ("planned", "failed")}
    inventory = take_inventory(conn, config, backend, hashed_by_copy=copied_sources)
    refused, still_named = record_plan(conn, config, plan)
    transfers = load_transfers(conn, config)
    pending = [transfer for transfer in transfers if transfer.state in ("planned", "failed")]
    if on_total:
        on_total(len(pending), sum(inventory[transfer.source].size for transfer in pending))
    copied, failed = copy_pending(
        conn, config, backend, pending, inventory, on_progress=on_progress, crash=crash
    )
    conn.execute(_render(config, "storage/046_copy_owner.sql"))
    rewritten, failed_rewrites = rewrite_pending(conn, config, crash=crash)
    keep = set(plan.outside_chat) | still_named | set(plan.unwritable)
    deleted = 0 if config.storage.keep_sources else delete_sources(conn, config, backend, keep, crash=crash)
    return StorageResult(
        counts={
            **plan.counts,
            "copied and verified (this run)": copied,
            "failed copies": len(failed),
            "references rewritten (this run)": rewritten["rewritten"],
            "references changed meanwhile (left alone)": rewritten["stale"],
            "references the database refused (left as they were)": rewritten["failed"] + len(refused),
            "sources deleted (this run)": deleted,
        },
        failed=failed,
        refused=[*refused, *failed_rewrites],
    )


# --- verify ---------------------------------------------------------------------------------


def _absent(backend: StorageBackend, key: Key) -> bool:
    """Whether no object is at KEY; a key the backend refuses to look up names none it serves."""
    try:
        return backend.info(*key) is None
    except ObjectRefused:
        return True


def verify(conn: psycopg.Connection, config: Config, backend: StorageBackend) -> StorageReport:
    """Every chat reference resolves to a chat-files object whose hash matches the inventory, in
    a form that can fetch from its bucket; references the database refused to rewrite are named
    with its error."""
    report = StorageReport()
    inventory = load_inventory(conn, config) if installed(conn, config) else {}
    transfers = load_transfers(conn, config)
    copied_from = {transfer.dest_name: transfer.source for transfer in transfers}
    for transfer in transfers:
        if transfer.state == "failed":
            report.findings.append(
                Finding("copy_failed", shown(f"{transfer.dest_bucket}/{transfer.dest_name}"),
                        transfer.detail or "")
            )
    refused = {
        (table_name, row_id, column_name, tuple(json_path)): detail
        for table_name, row_id, column_name, json_path, detail in (
            conn.execute(_render(config, "storage/065_failed_rewrites.sql"))
            if installed(conn, config) else ()
        )
    }
    visibility = bucket_visibility(conn)
    notes: dict[str, int] = defaultdict(int)
    targets: dict[str, list[str]] = defaultdict(list)
    for site in scan_references(conn, config):
        found = locate(site, config, inventory)
        if found is None:
            continue
        where = where_of(site.table_name, site.row_id, site.column_name, site.json_path)
        report.checked += 1
        if site.folder is None and site.table_name != "chat_messages":
            notes["legacy rows outside the chat (not checked)"] += 1
        elif found.kind == "target":
            assert found.key is not None and found.reference is not None
            targets[found.key[1]].append(where)
            if problem := form_problem(found.reference, found.key[0], visibility):
                report.findings.append(Finding("unreadable_form", where, problem))
        elif found.kind == "foreign":
            notes["references to other hosts or projects"] += 1
        elif found.kind == "other_bucket":
            notes["references to buckets not migrated"] += 1
        elif found.kind == "missing" and (found.key is None or _absent(backend, found.key)):
            notes["references to missing objects (left unchanged)"] += 1
        elif (error := refused.get((site.table_name, site.row_id, site.column_name, site.json_path))):
            report.findings.append(Finding("rewrite_failed", where, f"left as it was: {error}"))
        else:
            report.findings.append(Finding("not_migrated", where, f"still refers to {shown(site.raw)}"))

    def check(name: str) -> str | None:
        info = backend.info(config.storage.target_bucket, name)
        if info is None:
            return f"{config.storage.target_bucket}/{shown(name)} does not exist"
        source = copied_from.get(name)
        if source is None or source not in inventory:
            return None
        expected = inventory[source]
        if expected.sha256 is None:  # proved by the server's content hash, as apply proved it
            if not proved_by_etag(expected, info.size, info.etag):
                return (f"{config.storage.target_bucket}/{shown(name)} has {info.size} bytes ETag "
                        f"{info.etag}, the source had {expected.size} bytes ETag {expected.etag}")
            return None
        size, digest = sha256_of(backend, config.storage.target_bucket, name)
        if (size, digest) != (expected.size, expected.sha256):
            return (f"{config.storage.target_bucket}/{name} has sha256 {digest[:12]}, "
                    f"inventory says {expected.sha256[:12]}")
        return None

    names = sorted(targets)
    with ThreadPoolExecutor(config.storage.concurrency) as pool:
        for name, problem in zip(names, pool.map(check, names), strict=True):
            if problem:
                report.findings.extend(Finding("unresolved", where, problem) for where in targets[name])
    report.notes = dict(notes)
    return report


# --- rollback -------------------------------------------------------------------------------


class RestoreMismatch(Exception):
    """A source object put back by rollback does not match what the inventory recorded."""


def rewritten_references(conn: psycopg.Connection, config: Config) -> list[tuple]:
    """The references the phase rewrote (table, row id, column, JSON path, old, new): what
    rollback restores."""
    if not installed(conn, config):
        return []
    return conn.execute(_render(config, "storage/064_rewritten.sql")).fetchall()



def rollback(
    conn: psycopg.Connection, config: Config, backend: StorageBackend, *, crash: CrashPoint | None = None
) -> dict[str, int]:
    """Put deleted sources back, restore every rewritten reference, remove the copies, clear the journal."""
    counts = {"sources restored": 0, "references restored": 0, "references changed since": 0,
              "copies removed": 0}
    if not installed(conn, config):
        return counts
    inventory = load_inventory(conn, config)
    transfers = load_transfers(conn, config)
    state_sql = _render(config, "storage/050_transfer_state.sql")
    restored: set[Key] = set()
    for transfer in transfers:
        if transfer.state != "source_deleted" or transfer.source in restored:
            continue
        if backend.info(*transfer.source) is None:
            backend.copy(transfer.dest_bucket, transfer.dest_name, *transfer.source)
        size, digest = sha256_of(backend, *transfer.source)
        expected = inventory[transfer.source]
        if (size, digest) != (expected.size, expected.sha256):
            raise RestoreMismatch(
                f"restored {transfer.source_bucket}/{transfer.source_name} does not match the inventory"
            )
        with conn.transaction():
            for same in transfers:
                if same.source == transfer.source and same.state == "source_deleted":
                    conn.execute(state_sql, {"state": "rewritten", "dest_sha256": None, "detail": None,
                                             "source_bucket": same.source_bucket,
                                             "source_name": same.source_name, "dest_name": same.dest_name})
        restored.add(transfer.source)
        counts["sources restored"] += 1
        if crash:
            crash.tick("restore")
    rewrite_state = _render(config, "storage/062_rewrite_state.sql")
    rows = rewritten_references(conn, config)
    unrestored: list[Finding] = []

    def replan(outcomes: list[Outcome]) -> None:
        restored = []
        for location, state, detail in outcomes:
            if detail:
                # Still rewritten: it keeps its journal row (and its copy) for the next rollback.
                unrestored.append(Finding("restore_failed", where_of(*location), detail))
                continue
            table_name, row_id, column_name, json_path = location
            restored.append({"state": "planned", "detail": None, "table_name": table_name,
                             "row_id": row_id, "column_name": column_name, "json_path": json_path})
            counts["references restored" if state == "rewritten" else "references changed since"] += 1
        with conn.cursor() as cursor:
            cursor.executemany(rewrite_state, restored)

    _swap_references(conn, config, rows, restore=True, after=replan)
    if unrestored:
        raise FindingsError(
            f"{len(unrestored)} references could not be restored: "
            + "; ".join(f"{finding.where}: {finding.detail}" for finding in unrestored[:5]),
            hint="the copies and the journal stay; remove the cause, then run the storage rollback again",
        )
    by_bucket: dict[str, list[str]] = defaultdict(list)
    for transfer in transfers:
        by_bucket[transfer.dest_bucket].append(transfer.dest_name)
    for bucket, names in sorted(by_bucket.items()):
        for chunk in _batches(names, REMOVE_CHUNK):
            backend.remove(bucket, chunk)
            counts["copies removed"] += len(chunk)
    conn.execute(_render(config, "storage/090_clear_journal.sql"))
    return counts
