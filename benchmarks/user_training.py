"""The user's own training function, reference models trained one at a time with all cores
(`OMP_NUM_THREADS` = the cores: the policy before issue 28) against side by side in worker
processes with one thread each (the thread policy), alone and beside one busy-looping
process that this script starts and stops.

The function is the own-model tests' `own_models.training:gradient_boosting` (a
scikit-learn Pipeline of fully grown histogram-boosted trees, which use OpenMP threads), in
a spec `auditor init --train` writes for its model on RHC (500 members). Each run is a
fresh process with a cold cache running LiRA online with K reference models; the figure is
the wall time of that attack's stage (nearly all of it training the references). Ratios
are only comparable within one run of this script.

    python benchmarks/user_training.py [--k 16] [--repeats 1] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference_models import cpu_name

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
DEFAULT_OUT = Path(__file__).parent / "results" / "user_training.json"
TRAIN = "own_models.training:gradient_boosting"
BUSY = "while True: pass"
STAGE = "attack lira_online"


def setup(folder: Path, k: int) -> Path:
    """The skops model, the splits and the spec (`init --train`), LiRA online only."""
    sys.path.insert(0, str(TESTS))
    import pandas as pd
    from own_models.rhc import LABEL, features, write_splits
    from own_models.training import gradient_boosting
    from skops.io import dump

    from auditor.init import infer, write_setup

    splits = write_splits(folder / "data", sizes=(500, 500, 1000))
    members = pd.read_csv(splits["members"])
    model = folder / "model.skops"
    dump(gradient_boosting(members[features(members)], members[LABEL], seed=0), model)
    inferred = infer(model, splits["members"], sensitive=["sex"])
    spec = folder / "audit.toml"
    write_setup(inferred, model, splits, spec, train=TRAIN, attacks=["lira_online"])
    text = spec.read_text().replace("[attacks]", f"[attacks]\nreference_models = {k}")
    spec.write_text(text)
    return spec


def child(spec: Path) -> None:
    """One audit in this process; prints its stage timings as JSON."""
    sys.path.insert(0, str(TESTS))
    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit

    outcome = run_audit(load_spec(spec))
    print(json.dumps(outcome.timings))


def one_run(spec: Path, cache: Path, threads: str | None, busy: bool) -> float:
    """The LiRA stage's seconds of one cold audit in a fresh process."""
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(spec)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    if done.returncode != 0:
        raise SystemExit(f"audit failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])[STAGE])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # A terminated benchmark still stops its busy neighbour (the `finally` below runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.child is not None:
        child(args.child)
        return
    cores = len(os.sched_getaffinity(0))
    policies = {"one at a time, all cores": str(cores), "thread policy": None}
    rows: dict[str, dict[str, list[float]]] = {p: {"quiet": [], "busy": []} for p in policies}
    with tempfile.TemporaryDirectory() as tmp:
        spec = setup(Path(tmp), args.k)
        for repeat in range(args.repeats):
            for p, (name, threads) in enumerate(policies.items()):  # alternate: drift hits both
                for busy in (False, True):
                    cache = Path(tmp) / f"cache-{repeat}-{p}-{busy}"  # cold: its own folder
                    start = time.perf_counter()
                    seconds = one_run(spec, cache, threads, busy)
                    where = "busy" if busy else "quiet"
                    rows[name][where].append(seconds)
                    wall = time.perf_counter() - start
                    print(f"{name:<26} {where:<6} LiRA stage {seconds:7.1f} s (run {wall:.1f} s)")
    best = {p: {w: min(v) for w, v in r.items()} for p, r in rows.items()}
    print(f"\nK = {args.k}, {cores} cores ({cpu_name()}): LiRA online stage, seconds (best)")
    print(f"{'policy':<26} {'quiet':>8} {'busy':>8} {'busy/quiet':>11}")
    for name, b in best.items():
        print(f"{name:<26} {b['quiet']:8.1f} {b['busy']:8.1f} {b['busy'] / b['quiet']:11.2f}")
    old, new = best["one at a time, all cores"], best["thread policy"]
    ratios = {w: round(old[w] / new[w], 2) for w in ("quiet", "busy")}
    print(f"speed-up of the thread policy: quiet {ratios['quiet']}x, busy {ratios['busy']}x")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "settings": {"k": args.k, "train": TRAIN, "cores": cores, "cpu": cpu_name()},
        "runs": rows,
        "best": best,
        "speedup": ratios,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
