"""Benchmark: reference ensembles in process against Ray tasks, and cost against records.

Measures, in one run on one machine (numbers are only comparable within a run):
1. K in --ks reference models (supervised recipe, default preset, online mode) over the demo's
   SUPPORT2 pools (4,000 candidates + 3,105 population records), shards of 16 models:
   in process (all CPUs to torch), Ray with 1 worker (one task at a time, all CPUs each) and
   Ray with 2 workers (two tasks at once, one CPU each), on a local Ray started here. Ray's
   per-shard overhead is measured twice: an empty task's round trip, and (Ray 1 worker minus
   in process) / shards, which adds moving each shard's outputs back.
2. Cost against records: --records rows resampled from SUPPORT2 with Gaussian noise on the
   numeric columns. A TIMING WORKLOAD ONLY: these rows are not patients and are never audited.
   Half are candidates, half population; K = --records-k models, each on half of all rows.
Each cell is the fastest of --repeats runs, after one warm-up run per executor.

    python benchmarks/executors.py                      # both tables, ~5 min on 2 cores
    python benchmarks/executors.py --quick --out /tmp/executors.json   # smoke
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from auditor.core.encoding import fit_encoding
from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2, split_patients
from auditor.training.cache import DiskCache
from auditor.training.executors import Executor, InProcess, RayExecutor, ShardData, ShardTask
from auditor.training.recipes import PRESETS, RecipeInput
from auditor.training.references import reference_outputs

DEFAULT_OUT = Path(__file__).parent / "results" / "executors.json"
SHARD = 16


def demo_pools() -> tuple[RecipeInput, RecipeInput]:
    """The demo's candidates (members + non-members) and population, encoded."""
    splits = split_patients(load_support2(), seed=7)
    encoding = fit_encoding(splits.members, numeric=NUMERIC, categorical=CATEGORICAL)

    def xy(frame: Any) -> tuple[np.ndarray, np.ndarray]:
        return encoding.encode(frame), frame[LABEL].to_numpy().astype(np.int64)

    (mx, my), (nx, ny), (px, py) = (
        xy(s) for s in (splits.members, splits.non_members, splits.population)
    )
    candidates = RecipeInput(np.concatenate([mx, nx]), np.concatenate([my, ny]))
    return candidates, RecipeInput(px, py, px, 2, public_y=py)


def timing_workload(rows: int, seed: int = 0) -> tuple[RecipeInput, RecipeInput]:
    """`rows` SUPPORT2 records resampled with noise (timing only, never audited)."""
    candidates, population = demo_pools()
    x = np.concatenate([candidates.x, population.x])
    y = np.concatenate([candidates.y, population.y])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(x), rows)
    x = x[pick] + rng.normal(scale=0.1, size=(rows, x.shape[1])).astype(np.float32)
    half = rows // 2
    return (
        RecipeInput(x[:half], y[pick][:half]),
        RecipeInput(x[half:], y[pick][half:], x[half:], 2, public_y=y[pick][half:]),
    )


def timed(
    executor: Executor, candidates: RecipeInput, population: RecipeInput, k: int
) -> tuple[float, np.ndarray]:
    off = DiskCache(Path(tempfile.gettempdir()) / "auditor-bench-unused", enabled=False)
    start = time.perf_counter()
    out = reference_outputs(
        mode="online",
        recipe="supervised",
        hp=PRESETS["default"],
        candidates=candidates,
        population=population,
        k=k,
        seed=5,
        cache=off,
        device="cpu",
        shard_size=SHARD,
        executor=executor,
    )
    return time.perf_counter() - start, out.logits


def empty_task_s(executor: RayExecutor, data: ShardData, tasks: int = 64) -> float:
    """Round trip of one empty task (same data reference, same result shape)."""
    n_query = len(data.query_x)

    def nothing(_data: ShardData, task: ShardTask) -> np.ndarray:
        return np.zeros((task.stop - task.start, n_query, 2))

    plan = [
        ShardTask(i, i + SHARD, np.zeros((SHARD, 1), np.int64), (0,) * SHARD) for i in range(tasks)
    ]
    start = time.perf_counter()
    executor.run_shards(nothing, data, plan, lambda _t, _x: None)
    return (time.perf_counter() - start) / tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--records-k", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="fastest of N runs per cell")
    parser.add_argument("--quick", action="store_true", help="K 16 and 5k rows only (smoke)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.quick:
        args.ks, args.records = [16], [5_000]

    import ray

    cpus = os.cpu_count() or 2
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    in_process = InProcess()
    one, two = RayExecutor(cpus_per_task=2), RayExecutor(cpus_per_task=1)
    candidates, population = demo_pools()
    data = ShardData(
        "supervised",
        PRESETS["default"],
        RecipeInput(
            np.concatenate([candidates.x, population.x]),
            np.concatenate([candidates.y, population.y]),
        ),
        np.concatenate([candidates.x, population.x]),
        "cpu",
    )
    overhead = empty_task_s(two, data)
    for executor in (in_process, one, two):  # warm-up: torch kernels, Ray worker processes
        timed(executor, candidates, population, SHARD * 2)

    def fastest(executor: Executor, cand: RecipeInput, pop: RecipeInput, k: int) -> Any:
        runs = [timed(executor, cand, pop, k) for _ in range(args.repeats)]
        return min(runs, key=lambda run: run[0])

    rows: list[dict[str, Any]] = []
    print("K|executor|s|models/s|vs in process|shards|overhead/shard s")
    for k in args.ks:
        base, reference = fastest(in_process, candidates, population, k)
        for name, executor in (
            ("in process", in_process),
            ("ray, 1 worker", one),
            ("ray, 2 workers", two),
        ):
            seconds, logits = (
                (base, reference)
                if executor is in_process
                else fastest(executor, candidates, population, k)
            )
            shards = -(-k // SHARD)
            row = {
                "k": k,
                "executor": name,
                "seconds": seconds,
                "models_per_s": k / seconds,
                "ratio": seconds / base,
                "shards": shards,
                "overhead_per_shard_s": (seconds - base) / shards if executor is one else None,
                "max_abs_diff_vs_in_process": float(np.abs(logits - reference).max()),
            }
            rows.append(row)
            over = (
                "" if row["overhead_per_shard_s"] is None else f"{row['overhead_per_shard_s']:.3f}"
            )
            print(
                f"{k}|{name}|{seconds:.2f}|{k / seconds:.1f}|{seconds / base:.2f}x|{shards}|{over}"
            )
    print(f"empty Ray task round trip (same data reference): {overhead * 1000:.1f} ms")
    print(f"data put once per ensemble: {len(pickle.dumps(data)) / 1e6:.1f} MB")

    records: list[dict[str, Any]] = []
    print(f"\nrecords (timing workload, K={args.records_k})|executor|s|s per 1k rows")
    for n in args.records:
        cand, pop = timing_workload(n)
        for name, executor in (("in process", in_process), ("ray, 2 workers", two)):
            seconds, _ = fastest(executor, cand, pop, args.records_k)
            records.append(
                {
                    "rows": n,
                    "executor": name,
                    "seconds": seconds,
                    "s_per_1k_rows": seconds / n * 1000,
                }
            )
            print(f"{n}|{name}|{seconds:.2f}|{seconds / n * 1000:.3f}")
    ray.shutdown()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": cpus,
                    "platform": platform.platform(),
                    "torch": torch.__version__,
                    "ray": ray.__version__,
                    "torch_threads": torch.get_num_threads(),
                },
                "shard_size": SHARD,
                "repeats": args.repeats,
                "records_k": args.records_k,
                "empty_task_round_trip_s": overhead,
                "data_put_once_mb": len(pickle.dumps(data)) / 1e6,
                "executors": rows,
                "records": records,
                "records_note": "SUPPORT2 rows resampled with noise: timing workload, not patients",
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
