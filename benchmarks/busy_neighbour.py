"""The held-out-like MLP audit (`heldout_mlp.py`) alone and beside a busy neighbour: one
process busy-looping on one core, started and stopped by this script, as a shared CI
runner has. With `--before REV` the same two runs for git revision REV (a temporary
worktree, this environment's Python) alternate with this checkout's, so every ratio comes
from one session on one machine.

Each run is `python benchmarks/heldout_mlp.py` of its tree in a subprocess with a cold
cache. Prints the audit's wall time and its reference-training stages per run, and the
busy/quiet ratio per tree (the issue's target: at most 2.5).

    python benchmarks/busy_neighbour.py [--before REV] [--k 64] [--epochs 300]
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
DEFAULT_OUT = Path(__file__).parent / "results" / "busy_neighbour.json"
BUSY = "while True: pass"


def audit(tree: Path, scratch: Path, k: int, epochs: int, busy: bool) -> dict:
    """One cold run of `tree`'s heldout_mlp.py; beside a busy loop when `busy`."""
    out = scratch / f"{tree.name}-{'busy' if busy else 'quiet'}"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = str(tree / "benchmarks" / "heldout_mlp.py")
    command = [sys.executable, script, "--k", str(k), "--epochs", str(epochs), "--out", str(out)]
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        start = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    if done.returncode != 0:
        raise SystemExit(f"{tree}: heldout_mlp.py failed\n{done.stderr[-2000:]}")
    report = json.loads((out / "heldout_mlp.json").read_text())
    references = sum(
        v for s, v in report["stages"].items() if s.startswith("attack lira")
    )  # each LiRA stage holds its reference training (the cache is cold)
    return {
        "wall_s": round(seconds, 1),
        "audit_s": report["audit_s"],
        "lira_stages_s": round(references, 1),
        "stages": report["stages"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision to run beside this checkout")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    # A terminated benchmark still stops its busy neighbour (the `finally` below runs).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="busy-") as tmp:
        scratch = Path(tmp)
        trees = {"now": ROOT}
        if args.before:
            trees["before"] = scratch / "before"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(trees["before"]), args.before],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        try:
            for busy in (False, True):
                for name, tree in trees.items():
                    label = f"{name} {'busy' if busy else 'quiet'}"
                    rows[label] = audit(tree, scratch, args.k, args.epochs, busy)
                    print(
                        f"{label:<14} audit {rows[label]['audit_s']:>7.1f} s, LiRA stages "
                        f"{rows[label]['lira_stages_s']:>7.1f} s",
                        flush=True,
                    )
        finally:
            if args.before:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(trees["before"])],
                    cwd=ROOT,
                    check=False,
                    capture_output=True,
                )
    ratios = {
        name: round(rows[f"{name} busy"]["audit_s"] / rows[f"{name} quiet"]["audit_s"], 2)
        for name in trees
    }
    print(f"\ncpu ({cpu_name()}), {os.cpu_count()} cores; K {args.k}, {args.epochs} epochs")
    for name, ratio in ratios.items():
        print(f"  {name}: busy / quiet = {ratio} (target <= 2.5)")
    if args.before:
        quiet = rows["now quiet"]["audit_s"] / rows["before quiet"]["audit_s"]
        print(f"  quiet, now / before = {quiet:.2f} (target <= 1)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"settings": vars(args) | {"out": str(args.out)}, "runs": rows, "ratios": ratios},
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
