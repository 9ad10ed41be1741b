"""Benchmark: K reference models trained as one vectorised ensemble, against a loop.

Measures, in one run on one device (details and targets in benchmarks/README.md):
- for K in --ks and rows per model in --rows (encoded SUPPORT2 records, resampled with
  replacement when more are needed), `init_ensemble` + `fit_ensemble` against the same K
  models trained one after another by `recipes.supervised` (same rows, seeds, epochs, batch
  size, Adam), the loop timed on min(K, --loop-models) models and scaled to K;
- achieved GFLOP/s (6 * samples * sum(fan_in * fan_out) per model: the usual 2 forward +
  4 backward, although the first layer's input gradient is never computed) against a plain
  batched matmul with the workload's shapes ("share") and a large square one ("peak share");
- ensemble time against K and against rows per model (linearity);
- with --audit: LOSS, LiRA online/offline and RMIA on 64 reference models over the demo
  `supervised` fixture (`run_audit`), cold cache, then warm.

Run it on a quiet machine:
    python benchmarks/reference_models.py [--audit] [--device cuda]
    python benchmarks/reference_models.py --quick --out /tmp/bench_quick.json   # smoke
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

from auditor.core.encoding import fit_encoding
from auditor.data.embedded import CATEGORICAL, LABEL, NUMERIC, load_support2, split_patients
from auditor.training.ensembles import device_for, fit_ensemble, half_subsets, init_ensemble
from auditor.training.recipes import PRESETS, RecipeInput, TrainParams
from auditor.training.recipes.supervised import train as supervised

DEFAULT_OUT = Path(__file__).parent / "results" / "reference_models.json"
AUDIT_ATTACKS = ["loss", "lira_online", "lira_offline", "rmia"]
# The main table: headers, and each row's cells from a result (split at "|").
HEADERS = "K|rows|device|ensemble s|loop s (est)|speedup|ens GFLOP/s|bmm GFLOP/s|share|peak share"
ROW = "{k}|{rows}|{device}|{ensemble_s:.3f}|{loop_s:.3f}|{speedup:.1f}x|{ensemble_gflops:.2f}|"
ROW += "{bmm_gflops:.2f}|{share:.0%}|{peak_share:.0%}"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def support2_rows() -> tuple[np.ndarray, np.ndarray]:
    """All SUPPORT2 records, encoded as the demo encodes them (fitted on the members)."""
    frame = load_support2()
    members = split_patients(frame, seed=7).members
    enc = fit_encoding(members, numeric=list(NUMERIC), categorical=list(CATEGORICAL))
    return enc.encode(frame), frame[LABEL].to_numpy()


def workload(
    base: tuple[np.ndarray, np.ndarray], rows: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """A pool of 2 * rows records, K half-subsets of it (model k trains on `rows` records)
    and K seeds."""
    rng = np.random.default_rng([rows, k])
    pick = rng.choice(len(base[0]), size=2 * rows, replace=2 * rows > len(base[0]))
    return base[0][pick], base[1][pick], half_subsets(2 * rows, k, rng), [7 * j for j in range(k)]


def time_ensemble(hp, x, y, subsets, seeds, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    ens = init_ensemble(hp, x.shape[1], 2, seeds, device)
    fit_ensemble(ens, x, y, subsets, hp, [s + 1 for s in seeds])
    sync(device)
    return time.perf_counter() - start


def time_loop(hp, x, y, subsets, seeds) -> float:
    """The same models one after another: `supervised` inits with seed s, fits with s + 1."""
    start = time.perf_counter()
    for rows, seed in zip(subsets, seeds, strict=True):
        supervised(RecipeInput(x[rows], y[rows]), hp, seed)
    return time.perf_counter() - start


def fastest(measure: Callable[[], float], repeats: int, cheap_s: float = 2.0) -> float:
    """Fastest of `repeats` runs; stops repeating once one run takes over `cheap_s`."""
    best = measure()
    for _ in range(repeats - 1):
        if best > cheap_s:
            break
        best = min(best, measure())
    return best


def matmul_gflops(a: torch.Tensor, b: torch.Tensor, seconds: float = 0.1) -> float:
    """GFLOP/s of torch.matmul(a, b) into a preallocated output, fastest of 3 batches."""
    out = torch.matmul(a, b)
    flops = 2 * out.numel() * a.shape[-1]
    sync(a.device)
    start = time.perf_counter()
    torch.matmul(a, b, out=out)
    sync(a.device)
    reps = max(1, math.ceil(seconds / max(time.perf_counter() - start, 1e-7)))
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b, out=out)
        sync(a.device)
        best = min(best, (time.perf_counter() - start) / reps)
    return flops / best / 1e9


def measure(
    base, hp: TrainParams, k: int, rows: int, device, repeats: int, loop_models: int
) -> dict[str, Any]:
    """Ensemble time, FLOPs and bmm rate at (K, rows); the loop too when loop_models > 0."""
    x, y, subsets, seeds = workload(base, rows, k)
    widths = [x.shape[1], *hp.hidden, 2]
    flops = 6 * hp.epochs * rows * sum(a * b for a, b in itertools.pairwise(widths)) * k
    ens_s = fastest(lambda: time_ensemble(hp, x, y, subsets, seeds, device), repeats)
    gen = torch.Generator(device=device).manual_seed(0)
    shape_a, shape_b = (k, hp.batch_size, widths[0]), (k, widths[0], widths[1])
    a = torch.randn(shape_a, generator=gen, device=device)
    bmm = matmul_gflops(a, torch.randn(shape_b, generator=gen, device=device))
    out = {
        "k": k,
        "rows": rows,
        "device": device.type,
        "ensemble_s": ens_s,
        "flops": flops,
        "ensemble_gflops": flops / ens_s / 1e9,
        "bmm_shapes": [list(shape_a), list(shape_b)],
        "bmm_gflops": bmm,
        "share": flops / ens_s / 1e9 / bmm,
    }
    if loop_models > 0:
        n = min(k, loop_models)
        loop = fastest(lambda: time_loop(hp, x, y, subsets[:n], seeds[:n]), repeats)
        out |= {"loop_models_timed": n, "loop_s_timed": loop, "loop_s": loop * k / n}
        out["speedup"] = out["loop_s"] / ens_s
    return out


def calibrated_spec(text: str, k: int, device: str) -> str:
    """The demo spec with its [attacks] run, reference_models and device replaced."""
    lines = text.splitlines()
    start = lines.index("[attacks]")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    ours = {"run": json.dumps(AUDIT_ATTACKS), "reference_models": k, "device": f'"{device}"'}
    kept = [line for line in lines[start + 1 : end] if line.split("=")[0].strip() not in ours]
    new = [f"{key} = {value}" for key, value in ours.items()]
    return "\n".join([*lines[: start + 1], *new, *kept, *lines[end:]]) + "\n"


def audit_timing(device: str, k: int, bootstrap: int) -> dict[str, Any]:
    """The demo `supervised` fixture audited with calibrated attacks: cold, then warm."""
    from auditor.config.spec import load_spec
    from auditor.demo import build_fixtures
    from auditor.orchestration.run import run_audit

    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        start = time.perf_counter()
        specs = build_fixtures(Path(tmp) / "demo", bootstrap=bootstrap, names=("supervised",))
        build_s = time.perf_counter() - start
        path = specs["supervised"].with_name("supervised_calibrated.toml")
        path.write_text(calibrated_spec(specs["supervised"].read_text(), k, device))
        runs = {}
        with mock.patch.dict(os.environ, {"AUDITOR_CACHE_DIR": str(Path(tmp) / "cache")}):
            for label in ("cold", "warm"):  # the second run finds every model in the cache
                start = time.perf_counter()
                timings = run_audit(load_spec(path)).timings
                runs[label] = {
                    "seconds": time.perf_counter() - start,
                    "trained_online": timings.get("reference models trained (online)"),
                    "trained_offline": timings.get("reference models trained (offline)"),
                    "stage_timings": timings,
                }
    return {"reference_models": k, "attacks": AUDIT_ATTACKS, "fixture_build_s": build_s, **runs}


def table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    head = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    return "\n".join([f"\n{title}", head, line, *body])


def linearity(points: list[dict], key: str, unit: int) -> list[list[str]]:
    """Time against `key`, time per `unit` of it, and the time ratio beside the size ratio
    (cost linear in the size: the two ratios match)."""
    t0, n0 = points[0]["ensemble_s"], points[0][key]
    cells = "{}|{:.3f}|{:.2f}|{:.2f}|{:.2f}"
    return [
        cells.format(p[key], t, 1e3 * t * unit / p[key], t / t0, p[key] / n0).split("|")
        for p, t in ((p, p["ensemble_s"]) for p in points)
    ]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def targets(results: list[dict], audit: dict | None, device: torch.device) -> dict[str, Any]:
    """The issue's targets, met or not (reported, never enforced)."""
    out: dict[str, Any] = {}
    for p in results:
        if p["k"] != 64:
            continue
        key = f"K=64 rows={p['rows']}"
        if device.type == "cuda":
            out[f"{key}: speedup >= 30x"] = p["speedup"] >= 30
        else:
            out[f"{key}: speedup >= 3x"] = p["speedup"] >= 3
            out[f"{key}: share >= 50%"] = p["share"] >= 0.5
    if audit is not None and device.type == "cpu":
        out["audit cold < 60 s"] = audit["cold"]["seconds"] < 60
        out["audit warm < 5 s"] = audit["warm"]["seconds"] < 5
    return out


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=ints, default=[16, 64, 256], help="e.g. 16,64,256")
    parser.add_argument("--rows", type=ints, default=[1000, 3500], help="rows per model")
    parser.add_argument("--linear-rows", type=ints, default=[1000, 2000, 4000])
    parser.add_argument("--linear-k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--loop-models", type=int, default=16, help="loop models timed")
    parser.add_argument("--repeats", type=int, default=3, help="fastest of N (cheap runs)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="tiny smoke configuration")
    parser.add_argument("--audit", action="store_true", help="also time a calibrated audit")
    parser.add_argument("--audit-models", type=int, default=64)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.quick:
        args.ks, args.rows, args.epochs, args.repeats = [4, 8], [200], 1, 1
        args.linear_rows, args.linear_k, args.loop_models = [100, 200, 400], 8, 8
    if args.threads:
        torch.set_num_threads(args.threads)
    device = device_for(args.device)
    hp = replace(PRESETS["default"], epochs=args.epochs)
    base = support2_rows()
    # Warm up: the first torch calls (allocator, kernels, thread pool) are slow.
    warm = workload(base, 64, 2)
    time_ensemble(replace(hp, epochs=1), *warm, device)
    time_loop(replace(hp, epochs=1), *warm)
    side = 1024 if device.type == "cpu" else 8192
    square = torch.randn(side, side, device=device)
    peak = matmul_gflops(square, square, seconds=0.5)

    results = [
        measure(base, hp, k, r, device, args.repeats, args.loop_models)
        for r in args.rows
        for k in args.ks
    ]
    done = {(p["k"], p["rows"]): p for p in results}
    for rows in args.linear_rows:  # the ensemble only: the loop is not in these tables
        if (args.linear_k, rows) not in done:
            done[args.linear_k, rows] = measure(
                base, hp, args.linear_k, rows, device, args.repeats, 0
            )
    for p in done.values():
        p["peak_share"] = p["ensemble_gflops"] / peak
    by_k = sorted((done[k, args.rows[0]] for k in args.ks), key=lambda p: p["k"])
    by_rows = sorted((done[args.linear_k, r] for r in args.linear_rows), key=lambda p: p["rows"])

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(
        f"device: {device.type} ({name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; epochs {hp.epochs}, batch {hp.batch_size}, "
        f"hidden {list(hp.hidden)}; peak matmul {side}x{side}: {peak:.1f} GFLOP/s"
    )
    main_rows = [ROW.format(**p).split("|") for p in results]
    loop_note = f"loop timed on min(K, {args.loop_models}) models, scaled to K"
    print(table(f"Ensemble vs loop ({loop_note})", HEADERS.split("|"), main_rows))
    tail = ["ensemble s", "ms per unit", "time ratio", "size ratio"]
    k_title = f"Time vs K (rows {args.rows[0]}; unit: one model)"
    print(table(k_title, ["K", *tail], linearity(by_k, "k", 1)))
    rows_title = f"Time vs rows per model (K {args.linear_k}; unit: 1,000 rows)"
    print(table(rows_title, ["rows", *tail], linearity(by_rows, "rows", 1000)))

    audit = None
    if args.audit:
        audit = audit_timing(args.device, args.audit_models, bootstrap=200)
        print(f"\nAudit (LOSS, LiRA online/offline, RMIA; K={args.audit_models}):")
        for label in ("cold", "warm"):
            run = audit[label]
            print(
                f"  {label}: {run['seconds']:.1f} s, reference models trained: "
                f"online {run['trained_online']}, offline {run['trained_offline']}"
            )
    met = targets(results, audit, device)
    print("\nTargets (reported, not enforced):")
    for key, ok in met.items():
        print(f"  {key}: {'met' if ok else 'NOT met'}")
    if not met:
        print("  none apply (no K=64 in this run)")

    machine = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu_name(),
        "device": device.type,
        "device_name": name,
        "cuda_available": torch.cuda.is_available(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    settings["hyperparameters"] = hp.to_dict()
    settings["flop_count"] = "6 * epochs * rows * sum(fan_in * fan_out) per model"
    settings["loop"] = "recipes.supervised per model, on the CPU"
    document = {
        "machine": machine,
        "settings": settings,
        "peak_matmul": {"shape": [side, side], "gflops": peak},
        "runs": results,
        "linearity": {"k": by_k, "rows": by_rows},
        "audit": audit,
        "targets": met,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
