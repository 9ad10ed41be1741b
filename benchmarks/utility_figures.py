"""Utility figures and the group permutation test at array speed, against the loops they
replaced, side by side in one run on the same data and seeds.

- `utility_figures`: the eight binary utility metrics with 1,000 bootstrap replicates,
  all replicates at once (`metrics.utility_replicates`) against one scikit-learn call per
  metric per replicate; and the largest difference between the two intervals' ends.
- `auc_gap_p_value`: the permutation p-value of the AUC gap between four groups, every
  round ranked at once against `_auc` per group per round; and whether the p-values agree.

    python benchmarks/utility_figures.py [--records 1800,4000] [--replicates 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from reference_models import table

from auditor.core.estimates import percentile_interval
from auditor.metrics.groups import _auc, auc_gap_p_value
from auditor.metrics.utility import UTILITY_METRICS, utility_figures

DEFAULT_OUT = Path(__file__).parent / "results" / "utility_figures.json"


def utility_loop(y: np.ndarray, p: np.ndarray, seed: int, replicates: int) -> dict:
    """The former bootstrap: every metric by scikit-learn on every resample."""
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(y), len(y)) for _ in range(replicates)]
    out = {}
    for name, (fn, _) in UTILITY_METRICS.items():
        reps = np.array([float(fn(y[i], p[i])) for i in draws])
        out[name] = percentile_interval(float(fn(y, p)), reps, 0.95).to_dict()
    return out


def permutation_loop(scores, is_member, groups, names, seed: int, rounds: int) -> float:
    """The former test: a permutation, then `_auc` per group, round after round."""
    rng = np.random.default_rng(seed)

    def gap(labels: np.ndarray) -> float:
        aucs = [_auc(scores[labels == g], is_member[labels == g]) for g in names]
        return max(aucs) - min(aucs)

    observed, null = gap(groups), np.empty(rounds)
    for r in range(rounds):
        shuffled = groups.copy()
        for stratum in (is_member, ~is_member):
            shuffled[stratum] = rng.permutation(groups[stratum])
        null[r] = gap(shuffled)
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + rounds))


def seconds(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def times(point: dict, size: str) -> list[str]:
    """Table cells: size, both times in ms, speed-up."""
    ms = [f"{point[k] * 1e3:.0f}" for k in ("vectorised_s", "loop_s")]
    return [str(point[size]), *ms, f"{point['speedup']:.1f}x"]


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=ints, default=[1800, 4000])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--rounds", type=ints, default=[200, 1000], help="permutation rounds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    utility = []
    for n in args.records:
        y = (rng.random(n) < 0.3).astype(int)
        p = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0, 1)
        fast_s, fast = seconds(
            lambda y=y, p=p: utility_figures(
                y, p, rng=np.random.default_rng(1), replicates=args.replicates, confidence=0.95
            )
        )
        slow_s, slow = seconds(lambda y=y, p=p: utility_loop(y, p, 1, args.replicates))
        diff = max(
            abs(fast[m][end] - slow[m][end]) for m in UTILITY_METRICS for end in ("lower", "upper")
        )
        utility.append(
            {"records": n, "vectorised_s": fast_s, "loop_s": slow_s, "speedup": slow_s / fast_s}
            | {"interval_max_abs_diff": diff}
        )
    n = 3000
    is_member = rng.random(n) < 0.5
    scores = np.round(rng.normal(0.3 * is_member, 1.0), 2)
    groups = rng.choice(["a", "b", "c", "d"], n)
    names = ["a", "b", "c", "d"]
    permutation = []
    for rounds in args.rounds:
        fast_s, fast = seconds(
            lambda r=rounds: auc_gap_p_value(
                scores, is_member, groups, names, rng=np.random.default_rng(2), rounds=r
            )
        )
        slow_s, slow = seconds(
            lambda r=rounds: permutation_loop(scores, is_member, groups, names, 2, r)
        )
        permutation.append(
            {"rounds": rounds, "vectorised_s": fast_s, "loop_s": slow_s}
            | {"speedup": slow_s / fast_s, "p_value": fast, "same_p_value": fast == slow}
        )
    rows = [[*times(u, "records"), f"{u['interval_max_abs_diff']:.1e}"] for u in utility]
    head = ["test records", "all at once ms", "scikit-learn loop ms", "speed-up", "CI end diff"]
    print(table(f"Utility figures, {args.replicates} replicates, 8 metrics", head, rows))
    rows = [[*times(q, "rounds"), str(q["same_p_value"])] for q in permutation]
    head = ["rounds", "all at once ms", "round by round ms", "speed-up", "same p-value"]
    print(table(f"AUC-gap permutation test, {n} candidates, 4 groups", head, rows))
    document = {"settings": {k: v for k, v in vars(args).items() if k != "out"}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document |= {"utility": utility, "permutation": permutation}
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
