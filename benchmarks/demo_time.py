"""Benchmark: wall time of `auditor demo` (quick) and `auditor demo --full`, cold.

Each run gets a fresh output folder and an empty reference-model cache, in a subprocess
(imports included, as a new user meets it). With `--before REV`, the same runs for git
revision REV (checked out in a temporary worktree, run with this environment's Python)
alternate with this checkout's, so the before/after ratio comes from one session.

    python benchmarks/demo_time.py                      # this checkout: quick and full
    python benchmarks/demo_time.py --before HEAD~3 --modes quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference_models import cpu_name, table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).parent / "results" / "demo_time.json"
RUN = "from auditor.cli import app; app()"  # the `auditor` command, from the chosen tree


def time_demo(tree: Path, mode: str, scratch: Path) -> dict:
    """One cold `auditor demo` in `tree`: seconds and exit status."""
    out, cache = scratch / f"out-{mode}", scratch / f"cache-{mode}"
    args = [sys.executable, "-c", RUN, "demo", "--out", str(out)]
    if mode == "full":
        args.append("--full")
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache), "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    done = subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    reports = sorted(p.parent.name for p in out.glob("*/report.html"))
    return {"seconds": seconds, "returncode": done.returncode, "reports": reports}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="quick,full", help="quick, full or both")
    parser.add_argument("--before", help="git revision to time beside this checkout")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    trees = {"now": ROOT}
    with tempfile.TemporaryDirectory(prefix="demo-time-") as tmp:
        if args.before:
            before = Path(tmp) / "before"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(before), args.before],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            trees = {"before": before, "now": ROOT}
        runs = []
        try:
            for mode in modes:
                for label, tree in trees.items():
                    scratch = Path(tmp) / f"{label}-{mode}"
                    scratch.mkdir()
                    runs.append({"tree": label, "mode": mode, **time_demo(tree, mode, scratch)})
                    print(f"{label} {mode}: {runs[-1]['seconds']:.1f} s", flush=True)
        finally:
            if args.before:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False
                )
    rows = [
        [r["tree"], r["mode"], f"{r['seconds']:.1f}", str(len(r["reports"])), str(r["returncode"])]
        for r in runs
    ]
    print(f"\ncpu ({cpu_name()}), {os.cpu_count()} cores; cold cache, fresh output folder")
    print(table("auditor demo wall time", ["tree", "mode", "seconds", "reports", "exit"], rows))
    document = {"before": args.before, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
