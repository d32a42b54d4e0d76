"""Drift: two environments' chat schema compared object by object, aligned either way to no difference."""

from __future__ import annotations

import itertools
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import consolidate

from consolidation import drift
from consolidation.core import journal
from consolidation.core.config import Config
from consolidation.pytest_plugin import LocalCluster, LocalDatabase, apply_legacy_schema

CONFIG = Config()
SCOPE = drift.scope(CONFIG)
_numbers = itertools.count(1)

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
CASES = tomllib.loads((FIXTURES / "cases.toml").read_text(encoding="utf-8"))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8") if name else ""


def fresh(local_cluster: LocalCluster, name: str, statements: str) -> LocalDatabase:
    database = local_cluster.create(f"drift_{name}_{os.getpid()}_{next(_numbers)}")
    with database.connect() as conn:
        apply_legacy_schema(conn)
        conn.execute(fixture("common.sql"))
        if statements:
            conn.execute(statements)
    return database


@pytest.fixture
def environments(local_cluster: LocalCluster) -> Iterator[dict[str, LocalDatabase]]:
    made = {name: fresh(local_cluster, name, fixture(f"{name}.sql")) for name in ("staging", "production")}
    try:
        yield made
    finally:
        for database in made.values():
            local_cluster.drop(database)


def shape(report: drift.DriftReport) -> set[tuple[str, str, str]]:
    return {(d.kind, d.name, d.change) for d in report.differences}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_two_environments_are_found_and_aligned_either_way(
    environments: dict[str, LocalDatabase], case: str
) -> None:
    spec = CASES[case]
    expected = {tuple(found) for found in spec["differences"]}
    drops = {tuple(found) for found in spec["drops"]}
    source = environments[spec["source"].removesuffix(".sql")]
    target = environments[spec["target"].removesuffix(".sql")]
    with source.connect() as left, target.connect() as right:
        report = drift.compare_databases(left, right, SCOPE)
        assert shape(report) == expected
        assert {(d.kind, d.name, d.change) for d in report.differences if d.drop} == drops

        # Without --allow-drops: everything but the drops is aligned, the drops stay listed.
        drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report)
        assert shape(drift.compare_databases(left, right, SCOPE)) == drops

    aligned = consolidate(
        None, "drift", "--source", source.url, "--target", target.url, "--apply", "--allow-drops"
    )
    assert aligned.returncode == 0, aligned.stdout + aligned.stderr
    assert "drift: 0 differences" in aligned.stdout
    with source.connect() as left, target.connect() as right:
        assert drift.compare_databases(left, right, SCOPE).differences == []
        record = journal.latest(right, CONFIG, drift.PHASE)
        assert record and record["counts"]["aligned"] == len(drops)
        marked = right.execute(
            "SELECT public.mark_messages_as_read(gen_random_uuid(), gen_random_uuid())"
        ).fetchone()
        assert marked == ((spec["marked"][0],) if spec["marked"] else (None,))


def test_the_report_shows_the_sql_and_withholds_drops(environments: dict[str, LocalDatabase]) -> None:
    shown = consolidate(
        None,
        "drift",
        "--source",
        environments["production"].url,
        "--target",
        environments["staging"].url,
        "--out",
        "/dev/stdout",
    )
    assert shown.returncode == 1, shown.stderr
    assert "6 ways (3 need --allow-drops)" in shown.stderr
    script = shown.stdout[shown.stdout.index("-- Aligns the target") :]
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_chat_messages_reply_to" in script
    assert '-- DROP INDEX CONCURRENTLY IF EXISTS "public"."idx_chat_messages_sender_id";' in script
    assert "RETURNS integer" in script and "REVOKE ALL ON ROUTINE" in script


@pytest.mark.parametrize("direction", ["source has them", "target has them"])
def test_every_kind_of_object_converges(local_cluster: LocalCluster, direction: str) -> None:
    plain, rich = fresh(local_cluster, "plain", ""), fresh(local_cluster, "rich", fixture("every_kind.sql"))
    source, target = (rich, plain) if direction == "source has them" else (plain, rich)
    try:
        with source.connect() as left, target.connect() as right:
            report = drift.compare_databases(left, right, SCOPE)
            kinds = {d.kind for d in report.differences}
            assert kinds == {
                "schema",
                "table",
                "column",
                "function",
                "constraint",
                "trigger",
                "rls",
                "policy",
                "grant",
            }
            drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report, allow_drops=True)
            assert [
                (d.kind, d.name, d.detail) for d in drift.compare_databases(left, right, SCOPE).differences
            ] == []
    finally:
        local_cluster.drop(plain)
        local_cluster.drop(rich)


def test_an_index_build_interrupted_in_the_target_is_rebuilt(local_cluster: LocalCluster) -> None:
    index = "CREATE UNIQUE INDEX {} one_per_session ON public.chat_messages (session_id)"
    source, target = fresh(local_cluster, "source", index.format("")), fresh(local_cluster, "target", "")
    try:
        with target.connect() as right:
            # A unique build over duplicates fails half way and leaves the index behind, invalid.
            right.execute(
                "INSERT INTO public.chat_messages (session_id) "
                "SELECT '00000000-0000-4000-8000-000000000001'::uuid FROM generate_series(1, 2)"
            )
            with pytest.raises(psycopg.errors.UniqueViolation):
                right.execute(index.format("CONCURRENTLY"))
            right.execute("DELETE FROM public.chat_messages")
            with source.connect() as left:
                report = drift.compare_databases(left, right, SCOPE)
                assert [(d.change, d.detail) for d in report.differences] == [
                    ("changed", "invalid in the target (an interrupted build)")
                ]
                drift.align(right, CONFIG, journal.start_run(right, CONFIG, "test"), report)
                assert drift.compare_databases(left, right, SCOPE).differences == []
    finally:
        local_cluster.drop(source)
        local_cluster.drop(target)
