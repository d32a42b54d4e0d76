"""The phase contract, proved for every phase of the registry on the seeded dataset.

For each phase, on a database in the state the phases before it leave: the preview writes
nothing (every table's checksum and the list of schemas, before and after); the SQL the journal
records as run hashes to what the preview showed; apply twice ends as apply once; rollback puts
back the state before the phase.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from conftest import apply, consolidate, rollback
from psycopg import sql

from consolidation import faults
from consolidation.core import journal
from consolidation.core.checksums import fix_output_settings
from consolidation.core.config import Config
from consolidation.core.db import table_checksum
from consolidation.phases.contract import Phase
from consolidation.phases.registry import REGISTRY, names
from consolidation.pytest_plugin import LocalCluster, LocalDatabase

CONFIG = Config()
TABLES = """
SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
ORDER BY 1, 2
"""


def footprint(database: LocalDatabase) -> dict[str, object]:
    """What any write would change: the schemas, and every table's rows and content checksum."""
    with database.connect() as conn:
        fix_output_settings(conn)
        schemas = [row[0] for row in conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1")]
        tables = {
            f"{schema}.{name}": table_checksum(conn, sql.Identifier(schema, name)).digest
            for schema, name in conn.execute(TABLES).fetchall()
        }
    files = sorted(str(path.relative_to(database.store_root)) for path in database.store_root.rglob("*"))
    return {"schemas": schemas, "tables": tables, "files": files}


@pytest.fixture(scope="module")
def stages(local_cluster: LocalCluster, legacy_template: LocalDatabase) -> Iterator[dict[str, LocalDatabase]]:
    """For each phase, a database in the state just before it: every earlier phase applied."""
    base = local_cluster.create("contract_base", template=legacy_template)
    made: dict[str, LocalDatabase] = {}
    try:
        for phase in REGISTRY:
            made[phase.name] = local_cluster.create(f"contract_{phase.name}", template=base)
            assert apply(base, phase.name).report.clean, phase.name
        yield made
    finally:
        for database in [base, *made.values()]:
            local_cluster.drop(database)


def test_the_registry_holds_every_phase_once_in_order_and_each_is_a_phase() -> None:
    assert names() == ["backup", "merge", "storage", "constraints", "policies", "cutover"]
    for phase in REGISTRY:
        assert isinstance(phase, Phase), phase
        assert all(names().index(required) < names().index(phase.name) for required in phase.requires)


@pytest.mark.parametrize("name", names())
def test_the_contract_holds(stages: dict[str, LocalDatabase], name: str) -> None:
    database = stages[name]
    untouched = footprint(database)

    # The preview, in every spelling, writes nothing at all.
    previews = [consolidate(database, *argv) for argv in ([name, "--format", "json"], [name, "plan"], [name])]
    assert [done.returncode for done in previews] == [0, 0, 0], [done.stderr for done in previews]
    assert footprint(database) == untouched, "a preview wrote"
    shown = json.loads(previews[0].stdout)
    assert shown["phase"] == name and shown["steps"], shown

    # The journal is the record of the apply and the rollback: it stays, so the state before is
    # taken with it in place (the first phase's run installs it).
    with database.connect() as conn:
        journal.install(conn, CONFIG)
    before = faults.fingerprint(database, CONFIG)

    first = apply(database, name)
    assert first.report is not None and first.report.clean, first.report
    with database.connect() as conn:
        record = journal.latest(conn, CONFIG, name)
    assert record is not None and record["sql_sha256"] == shown["hash"] == first.plan.hash
    once = faults.fingerprint(database, CONFIG)

    second = apply(database, name)
    assert faults.compare(once, faults.fingerprint(database, CONFIG)) == [], "apply twice differs from once"
    assert second.noop or second.report.clean

    undone = rollback(database, name)
    assert undone.result is not None
    with database.connect() as conn:
        assert not journal.phase_state(conn, CONFIG, name).applied
    assert faults.compare(before, faults.fingerprint(database, CONFIG)) == [], "rollback left a difference"


def test_a_plan_the_database_moved_away_from_is_refused_and_writes_nothing(
    local_cluster: LocalCluster, legacy_template: LocalDatabase
) -> None:
    database = local_cluster.create("contract_moved", template=legacy_template)
    try:
        reviewed = json.loads(consolidate(database, "backup", "--format", "json").stdout)["hash"]
        with database.connect() as conn:
            # Another backup's schema appears: the next one gets another name, so another plan.
            conn.execute("CREATE SCHEMA consolidation_backup_001")
        untouched = footprint(database)
        refused = consolidate(database, "backup", "--apply", "--plan-hash", reviewed[:12])
        assert refused.returncode == 2, refused.stderr
        assert "not the" in refused.stderr and "you reviewed" in refused.stderr
        assert footprint(database) == untouched
    finally:
        local_cluster.drop(database)


def test_a_phase_refuses_to_start_on_an_unresolved_finding_of_one_it_builds_on(
    local_cluster: LocalCluster, stages: dict[str, LocalDatabase]
) -> None:
    database = local_cluster.create("contract_gate", template=stages["storage"])
    try:
        with database.connect() as conn:
            # Damage merge's work behind capture's back: merge's verification finds it.
            conn.execute("ALTER TABLE public.messages DISABLE TRIGGER consolidation_capture")
            conn.execute(
                "UPDATE public.messages SET content = 'changed' WHERE id = (SELECT source_id "
                "FROM consolidation.provenance WHERE source_table = 'messages' LIMIT 1)"
            )
        checked = consolidate(database, "merge", "verify")
        assert checked.returncode == 1
        untouched = footprint(database)
        refused = consolidate(database, "storage", "--apply")
        assert refused.returncode == 2, refused.stderr
        message = " ".join(refused.stderr.split())
        assert "builds on merge, whose verification has unresolved findings" in message
        assert "`consolidate merge verify`" in message
        assert footprint(database) == untouched
        forced = consolidate(database, "storage", "--apply", "--force-order")
        assert forced.returncode == 0, forced.stderr
    finally:
        local_cluster.drop(database)


def test_a_phase_built_on_is_not_rolled_back_first(stages: dict[str, LocalDatabase]) -> None:
    database = stages["constraints"]
    refused = consolidate(database, "rollback", "--phase", "merge", "--apply")
    assert refused.returncode == 2
    message = " ".join(refused.stderr.split())
    assert "storage is applied and built on merge" in message
    assert "`consolidate storage rollback --apply`" in message
