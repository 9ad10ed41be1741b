"""Membership figures at array speed: ms per attack for `membership_figures` (all bootstrap
replicates at once) against the per-replicate scikit-learn loop it replaced, side by side
in one run, on the same scores and seeds.

    python benchmarks/figures.py [--candidates 4000] [--replicates 1000] [--repeats 3]
                                 [--out benchmarks/results]

Prints a table and writes <out>/figures.json. The loop is the former implementation:
one stratified resample and one `roc_curve` per replicate.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from auditor.core.estimates import percentile_interval
from auditor.metrics.membership import (
    FPR_TARGETS,
    band_grid,
    bootstrap_rocs,
    membership_figures,
    read_roc,
)


def loop_figures(scores: np.ndarray, is_member: np.ndarray, seed: int, replicates: int) -> dict:
    """The former bootstrap: a scikit-learn ROC curve per stratified resample."""
    rng = np.random.default_rng(seed)
    grid = band_grid(int((~is_member).sum()))
    members, others = np.flatnonzero(is_member), np.flatnonzero(~is_member)
    point = read_roc(scores, is_member, grid)
    boots = []
    for _ in range(replicates):
        i = np.concatenate([rng.choice(members, len(members)), rng.choice(others, len(others))])
        boots.append(read_roc(scores[i], is_member[i], grid))
    return {
        "auc": percentile_interval(point.auc, np.array([b.auc for b in boots]), 0.95),
        "tpr": {
            t: percentile_interval(point.tpr_at[t], np.array([b.tpr_at[t] for b in boots]), 0.95)
            for t in FPR_TARGETS
        },
    }


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=4000)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    is_member = np.arange(args.candidates) < args.candidates // 2
    rows = []
    kwargs = {"replicates": args.replicates, "confidence": 0.95, "delta": 1e-5}
    for name, scores in (
        ("distinct scores", rng.normal(0.3 * is_member, 1.0)),
        ("tied scores (2 decimals)", np.round(rng.normal(0.3 * is_member, 1.0), 2)),
    ):
        whole = _best(
            lambda s=scores: membership_figures(
                s, is_member, rng=np.random.default_rng(1), **kwargs
            ),
            args.repeats,
        )
        vectorised = _best(
            lambda s=scores: bootstrap_rocs(
                s,
                is_member,
                rng=np.random.default_rng(1),
                replicates=args.replicates,
                grid=band_grid(int((~is_member).sum())),
            ),
            args.repeats,
        )
        loop = _best(lambda s=scores: loop_figures(s, is_member, 1, args.replicates), 1)
        new = membership_figures(scores, is_member, rng=np.random.default_rng(1), **kwargs)
        old = loop_figures(scores, is_member, 1, args.replicates)
        same_tpr = all(
            new["tpr_at_fpr"][f"{t:g}"]["lower"] == old["tpr"][t].lower
            and new["tpr_at_fpr"][f"{t:g}"]["upper"] == old["tpr"][t].upper
            for t in FPR_TARGETS
        )
        auc_diff = max(
            abs(new["auc"]["lower"] - old["auc"].lower), abs(new["auc"]["upper"] - old["auc"].upper)
        )
        rows.append(
            {
                "scores": name,
                "candidates": args.candidates,
                "replicates": args.replicates,
                "bootstrap_ms": round(1000 * vectorised, 1),
                "membership_figures_ms": round(1000 * whole, 1),
                "sklearn_loop_ms": round(1000 * loop, 1),
                "speedup_bootstrap": round(loop / vectorised, 1),
                "tpr_intervals_identical": same_tpr,
                "auc_interval_max_abs_diff": auc_diff,
            }
        )
    print(
        f"{'scores':<26} {'bootstrap ms':>12} {'all figures ms':>14} {'sklearn loop ms':>15} "
        f"{'speed-up':>8}  TPR CIs same  AUC CI diff"
    )
    for r in rows:
        print(
            f"{r['scores']:<26} {r['bootstrap_ms']:>12.1f} {r['membership_figures_ms']:>14.1f} "
            f"{r['sklearn_loop_ms']:>15.1f} {r['speedup_bootstrap']:>7.1f}x  "
            f"{r['tpr_intervals_identical']!s:<12}  {r['auc_interval_max_abs_diff']:.1e}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "figures.json").write_text(
        json.dumps({"rows": rows, "settings": vars(args) | {"out": str(args.out)}}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
