"""The DP audit's estimators on SUPPORT2, side by side: for each claimed epsilon and canary
kind (gradient: white box; input, ood and crafted: black box, crafted with one canary per
hidden unit of the recipe's MLP), the one-run (Steinke et al.) and many-runs
(Clopper-Pearson) bounds, the f-DP one-run bound (Mahloujifar et al.) and the Gaussian-DP
estimate (Nasr et al.), each with its tightness (bound / claim) at several run counts; the
broken DP-SGD's and the noise-free training's; and soundness: over many seeds of each
correct DP-SGD configuration, the largest value of each estimator and how many exceed the
claim (none may, beyond the confidence's share).

    python benchmarks/dp_audit.py [--runs 64] [--gradient-canaries 3000] [--input-canaries 1000]
                                  [--seeds 20] [--seed-runs 16] [--out benchmarks/results]

Plays the canary game directly (`auditor.training.canaries`) on the demo's members, with the
demo's DP preset (30 epochs, batch 256, lr 1e-2, clip 1). Prints two tables and writes
<out>/dp_audit.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from auditor.core.encoding import fit_encoding
from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2, split_patients
from auditor.demo.dp_audit import DP_AUDIT_FIXTURES
from auditor.metrics.dp_audit import dp_audit_bounds
from auditor.training.canaries import play_canary_game
from auditor.training.crafted_start import crafted_capacity
from auditor.training.recipes.base import RecipeInput

CONFIDENCE, DELTA = 0.95, 1e-5
KINDS = ("gradient", "input", "ood", "crafted")
ESTIMATORS = ("one_run", "many_runs", "fdp_one_run", "gdp_many_runs")
SHORT = {"one_run": "1 run", "many_runs": "many", "fdp_one_run": "f-DP 1", "gdp_many_runs": "GDP"}


def _data(seed: int) -> tuple[RecipeInput, RecipeInput]:
    splits = split_patients(load_support2(), seed=seed)
    enc = fit_encoding(splits.members, numeric=list(NUMERIC), categorical=list(CATEGORICAL))

    def encode(frame: object) -> RecipeInput:
        return RecipeInput(enc.encode(frame), frame[LABEL].to_numpy())  # type: ignore[index]

    return encode(splits.members), encode(splits.population)


def _game(
    name: str, kind: str, data: RecipeInput, pool: RecipeInput, runs: int, canaries: int, seed: int
) -> tuple[dict, object, float]:
    hp = DP_AUDIT_FIXTURES[name]
    claimed = None if hp.noise_scale == 0 else hp.target_epsilon
    t = time.perf_counter()
    game = play_canary_game(
        kind,
        hp,  # type: ignore[arg-type]
        data,
        pool,
        runs=runs,
        canaries=canaries,
        seed=seed,
    )
    bounds = dp_audit_bounds(
        game.scores,
        game.included,
        delta=DELTA,
        confidence=CONFIDENCE,
        seed=seed + 1,
        claimed=claimed,
        family="gaussian",
        standardise=kind != "gradient",  # as the audit does
    )
    return bounds, game, round(time.perf_counter() - t, 1)


def _per_run(kind: str, args: argparse.Namespace, data: RecipeInput, soundness: bool) -> int:
    if kind == "gradient":
        return min(args.gradient_canaries, 1000) if soundness else args.gradient_canaries
    if kind == "crafted":  # one per hidden unit: all the preset's MLP holds
        hidden = DP_AUDIT_FIXTURES["dp_eps1"].hidden
        return crafted_capacity(tuple(hidden), data.x.shape[1])
    return args.input_canaries


def _ratio(bound: float | None, claim: float | None) -> float | None:
    return None if bound is None or not claim else bound / claim


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def tightness(args: argparse.Namespace, data: RecipeInput, pool: RecipeInput) -> list[dict]:
    rows = []
    head = "".join(f" {SHORT[e]:>7} {'ratio':>5}" for e in ESTIMATORS)
    print(f"{'fixture':<12} {'canaries':<9} {'runs':>5}{head}  claim  seconds")
    for name in DP_AUDIT_FIXTURES:
        for kind in KINDS:
            m = _per_run(kind, args, data, soundness=False)
            bounds, game, seconds = _game(name, kind, data, pool, args.runs, m, seed=1)
            claim = bounds["claimed_epsilon"]
            for point in bounds["by_runs"]:
                cells = "".join(
                    f" {_f(point[e]):>7} {_f(_ratio(point[e], claim)):>5}" for e in ESTIMATORS
                )
                print(f"{name:<12} {kind:<9} {point['runs']:>5}{cells}  {_f(claim):>5}  {seconds}")
                rows.append(
                    {
                        "fixture": name,
                        "kind": kind,
                        "canaries_per_run": m,
                        **point,
                        "claimed": claim,
                        "seconds": seconds,
                        "accounted_epsilon": game.accounted_epsilon,
                    }
                )
    return rows


def soundness(args: argparse.Namespace, data: RecipeInput, pool: RecipeInput) -> list[dict]:
    rows = []
    print(f"\nsoundness: {args.seeds} seeds, {args.seed_runs} runs each; max (times above claim)")
    print(f"{'fixture':<10} {'canaries':<9}" + "".join(f" {SHORT[e]:>12}" for e in ESTIMATORS))
    for name in ("dp_eps1", "dp_eps3", "dp_eps8"):
        for kind in KINDS:
            m = _per_run(kind, args, data, soundness=True)
            values: dict[str, list[float]] = {e: [] for e in ESTIMATORS}
            for seed in range(args.seeds):
                bounds, _, _ = _game(name, kind, data, pool, args.seed_runs, m, seed=100 + seed)
                for e in ESTIMATORS:
                    values[e].append(bounds[e]["value"] or 0.0)
            claim = DP_AUDIT_FIXTURES[name].target_epsilon
            above = {e: sum(v > claim for v in values[e]) for e in ESTIMATORS}
            cells = "".join(f" {max(values[e]):>7.2f} ({above[e]:>2})" for e in ESTIMATORS)
            print(f"{name:<10} {kind:<9}{cells}   claim {claim:.1f}")
            rows.append(
                {
                    "fixture": name,
                    "kind": kind,
                    "seeds": args.seeds,
                    "claimed": claim,
                    **{f"max_{e}": max(values[e]) for e in ESTIMATORS},
                    **{f"above_{e}": above[e] for e in ESTIMATORS},
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=64)
    parser.add_argument("--gradient-canaries", type=int, default=3000)
    parser.add_argument("--input-canaries", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--seed-runs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    start = time.perf_counter()
    data, pool = _data(args.seed)
    report = {
        "settings": vars(args) | {"out": str(args.out), "confidence": CONFIDENCE, "delta": DELTA},
        "tightness": tightness(args, data, pool),
        "soundness": soundness(args, data, pool) if args.seeds else [],
    }
    report["seconds"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dp_audit.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{report['seconds']:.0f} s; wrote {args.out / 'dp_audit.json'}")


if __name__ == "__main__":
    main()
