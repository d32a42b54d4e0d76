"""bench/faults: each phase SIGKILLed at seeded random points and re-run, against an uninterrupted run.

Usage: .venv/bin/python bench/faults.py [--trials 10] [--seed 1] [--messages 3000] [--batch-size 25]
                                        [--phases backup,merge,storage,policies,constraints,cutover]
Starts a throwaway local stack, seeds the synthetic legacy dataset, and for each phase in run
order (each on the state the ones before it leave) runs consolidation.faults' trials: the phase
through the `consolidate` command, killed after a delay the seeded RNG draws within the
uninterrupted run's phase duration, re-run, checked, and fingerprinted. Prints per phase: trials,
whether a second uninterrupted run (the control) matched the first, kills that landed mid-phase,
mismatches, duplicates (rows beyond the uninterrupted run's), lost (rows of the uninterrupted
run missing), and each differing trial; exits 1 on any.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from consolidation import faults
from consolidation.pytest_plugin import LocalCluster
from consolidation.seed import SeedOptions, seed_legacy
from consolidation.stack import Stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="Kills per phase.")
    parser.add_argument("--seed", type=int, default=1, help="Seeds the kill delays (and the dataset).")
    parser.add_argument("--messages", type=int, default=3000, help="Legacy messages to seed.")
    parser.add_argument("--batch-size", type=int, default=25, help="merge --batch-size.")
    parser.add_argument(
        "--phases", default=",".join(p.name for p in faults.default_phases()), help="In run order."
    )
    parser.add_argument("--pg-bin", default=None, help="An installed PostgreSQL's bin folder.")
    args = parser.parse_args()

    known = {phase.name: phase for phase in faults.default_phases(args.batch_size)}
    chosen = [name.strip() for name in args.phases.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        sys.exit(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(known)}")

    directory = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    stack = Stack(directory)
    stack.up(pg_bin=args.pg_bin)
    started = time.perf_counter()
    try:
        cluster = LocalCluster(stack)
        seeded = cluster.create("bench_faults_seeded")
        seed_legacy(seeded.url, seeded.store_root, SeedOptions.scaled(args.messages, seed=args.seed))

        def show(phase: faults.Phase, trial: faults.Trial) -> None:
            verdict = "MISMATCH" if trial.mismatch else "ok"
            print(f"  {phase.name:<9} kill at +{trial.delay:6.3f}s  {trial.landed:<16} {verdict}", flush=True)
            if trial.rerun_exit:
                print(f"      re-run exited {trial.rerun_exit}")
            for check in trial.failed_checks:
                print(f"      check failed: consolidate {check}")
            for difference in trial.differences:
                print(f"      {difference.surface}: {difference.lost} lost, {difference.extra} extra")

        reports = faults.run_trials(
            [known[name] for name in chosen], cluster, seeded, trials=args.trials, seed=args.seed,
            prefix="bench_faults", on_trial=show,
        )
    finally:
        stack.down()
        shutil.rmtree(directory, ignore_errors=True)

    print(f"\n{args.messages} messages, seed {args.seed}, {time.perf_counter() - started:.0f} s in all")
    row = "{:<10}{:>8}{:>9}{:>8}{:>11}{:>12}{:>12}{:>6}"
    heading = ("phase", "phase s", "control", "trials", "mid-phase", "mismatches", "duplicates", "lost")
    print(row.format(*heading))
    for report in reports:
        print(row.format(
            report.phase.name, f"{report.reference_seconds:.2f}",
            "ok" if not report.control_differences else "DIFFERS", len(report.trials), report.mid_phase,
            report.mismatches, report.duplicates, report.lost,
        ))
        for difference in report.control_differences:
            print(f"  control: {difference.surface}: {difference.lost} lost, {difference.extra} extra")
    sys.exit(0 if all(report.clean for report in reports) else 1)


if __name__ == "__main__":
    main()
