"""Faults: each phase SIGKILLed at seeded random points and re-run ends exactly as an uninterrupted run."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from consolidation import faults
from consolidation.pytest_plugin import LocalCluster, LocalDatabase

TRIALS = 2
SEED = 1


@dataclass(frozen=True)
class Expectation:
    phase: str
    # Long enough on the small dataset that a seeded kill must land inside it.
    lands_mid_phase: bool


EXPECTATIONS = [
    Expectation("backup", lands_mid_phase=False),
    Expectation("merge", lands_mid_phase=True),
    Expectation("storage", lands_mid_phase=True),
    Expectation("constraints", lands_mid_phase=False),
    Expectation("policies", lands_mid_phase=False),
    Expectation("cutover", lands_mid_phase=False),
]


@pytest.fixture(scope="module")
def reports(local_cluster: LocalCluster, legacy_template: LocalDatabase) -> dict[str, faults.PhaseReport]:
    done = faults.run_trials(
        faults.default_phases(batch_size=50), local_cluster, legacy_template,
        trials=TRIALS, seed=SEED, prefix=f"faults_{os.getpid()}", check_trials=False,
    )
    return {report.phase.name: report for report in done}


def test_the_trials_walk_the_registry() -> None:
    from consolidation.phases.registry import names

    assert [phase.name for phase in faults.default_phases()] == names() == [e.phase for e in EXPECTATIONS]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=[e.phase for e in EXPECTATIONS])
def test_killed_phase_resumes_to_the_uninterrupted_state(
    reports: dict[str, faults.PhaseReport], expected: Expectation
) -> None:
    report = reports[expected.phase]
    assert report.control_differences == [], "two uninterrupted runs must fingerprint alike"
    assert len(report.trials) == TRIALS
    if expected.lands_mid_phase:
        assert report.mid_phase >= 1, [trial.landed for trial in report.trials]
    failures = [trial for trial in report.trials if trial.mismatch]
    assert failures == [], failures
    assert (report.duplicates, report.lost) == (0, 0)


def test_fingerprint_counts_lost_and_extra_rows_and_ignores_write_stamps(legacy_db: LocalDatabase) -> None:
    before = faults.fingerprint(legacy_db)
    assert faults.compare(before, faults.fingerprint(legacy_db)) == []
    with legacy_db.connect() as conn:
        conn.execute("UPDATE storage.objects SET last_accessed_at = now() + interval '1 day'")
        assert faults.compare(before, faults.fingerprint(legacy_db)) == [], "a write stamp is not the work"
        conn.execute("DELETE FROM public.messages WHERE id = (SELECT id FROM public.messages LIMIT 1)")
        conn.execute(
            "INSERT INTO public.chat_sessions SELECT (jsonb_populate_record(NULL::public.chat_sessions, "
            "to_jsonb(s) || jsonb_build_object('id', gen_random_uuid()))).* "
            "FROM public.chat_sessions AS s LIMIT 1"
        )
    stray = legacy_db.store_root / "stub" / "stub" / "chat-files" / "a" / "b" / "version"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left behind")
    assert faults.compare(before, faults.fingerprint(legacy_db)) == [
        faults.Difference("file store: files no object row names", lost=0, extra=1),
        faults.Difference("public.chat_sessions", lost=0, extra=1),
        faults.Difference("public.messages", lost=1, extra=0),
    ]
