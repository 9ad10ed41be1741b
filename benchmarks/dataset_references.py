"""Benchmark: reference runs of the dataset recipes, all K at once against one by one.

For stimuli, stimuli with identity inhibition and condensation (the demo's settings, MLP
and random-forest consumers), K reference runs on SUPPORT2 members-sized subsets: the
vectorised shard (`dataset_ensembles.dataset_shard`) against the loop it replaced
(`run_recipe` per run), side by side in one run, with the largest logit difference. As in
an audit, the random-forest row reuses the release made for the MLP row (only its
consumers train); the loop re-runs the whole recipe, as reference shards did.

    python benchmarks/dataset_references.py [--k 8] [--out FILE]
    python benchmarks/dataset_references.py --quick --out /tmp/ds.json   # smoke
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from reference_models import cpu_name, support2_rows, table

from auditor.artifacts.query import logits_fn
from auditor.training.dataset_ensembles import dataset_shard
from auditor.training.ensembles import half_subsets
from auditor.training.recipes import PRESETS, RecipeInput, TrainParams, run_recipe

DEFAULT_OUT = Path(__file__).parent / "results" / "dataset_references.json"
FOREST = TrainParams(architecture="random_forest")


def loop(recipe, params, pool, subsets, seeds, query) -> np.ndarray:
    """The K runs one after another, as reference shards trained before."""
    out = []
    for rows, seed in zip(subsets, seeds, strict=True):
        model = run_recipe(recipe, RecipeInput(pool.x[rows], pool.y[rows]), params, seed).model
        out.append(logits_fn(model)(query))
    return np.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8, help="reference runs (the demo's 8)")
    parser.add_argument("--rows", type=int, default=1776, help="records per run")
    parser.add_argument("--quick", action="store_true", help="tiny smoke configuration")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    x, y = support2_rows()
    pool = RecipeInput(x[: 2 * args.rows], y[: 2 * args.rows])
    subsets = half_subsets(len(pool.x), args.k, np.random.default_rng(0))
    seeds, query = [101 + 7 * j for j in range(args.k)], x[:2000]
    cases = {}
    demo = {  # the demo fixtures' parameters (auditor.demo: presets by fixture)
        "stimuli": ("stimuli", PRESETS["stimuli"]),
        "stimuli_inhibited": ("stimuli", PRESETS["stimuli_inhibited"]),
        "condense": ("condense", PRESETS["consumer"]),
    }
    for name, (recipe, preset) in demo.items():
        for consumer_name, consumer in (("mlp", preset.consumer), ("random_forest", FOREST)):
            params = replace(preset, consumer=consumer)
            if args.quick:
                params = replace(params, iterations=3)
            cases[f"{name}@{consumer_name}"] = (recipe, params)
    device, points = torch.device("cpu"), []
    tiny = replace(PRESETS["stimuli"], iterations=2, teacher=replace(PRESETS["default"], epochs=1))
    dataset_shard("stimuli", tiny, pool, subsets[:2], seeds[:2], query, device)  # warm up
    loop("stimuli", tiny, pool, subsets[:2], seeds[:2], query)
    for label, (recipe, params) in cases.items():
        start = time.perf_counter()
        fast = dataset_shard(recipe, params, pool, subsets, seeds, query, device)
        fast_s = time.perf_counter() - start
        start = time.perf_counter()
        slow = loop(recipe, params, pool, subsets, seeds, query)
        slow_s = time.perf_counter() - start
        points.append(
            {
                "case": label,
                "vectorised_s": fast_s,
                "loop_s": slow_s,
                "speedup": slow_s / fast_s,
                "max_logit_difference": float(np.abs(fast - slow).max()),
            }
        )
    print(f"cpu ({cpu_name()}), torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"K {args.k} runs of {args.rows} records each")
    rows = [
        [p["case"], f"{p['vectorised_s']:.2f}", f"{p['loop_s']:.2f}", f"{p['speedup']:.1f}x"]
        for p in points
    ]
    rows = [[*r, f"{p['max_logit_difference']:.2g}"] for r, p in zip(rows, points, strict=True)]
    headers = ["recipe@consumer", "all at once s", "one by one s", "speed-up", "max |logit diff|"]
    print(table("Dataset-recipe reference runs", headers, rows))
    document = {"settings": {k: v for k, v in vars(args).items() if k != "out"}, "points": points}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
