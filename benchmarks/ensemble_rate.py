"""Benchmark: the ensemble's training rate against the machine's matmul rate.

For batch sizes 64, 128, 512 and hidden widths 64, 128, 256 (two hidden layers, as the
held-out-like MLP), K reference models trained by `fit_ensemble` on encoded SUPPORT2 rows:
- achieved GFLOP/s (6 * epochs * rows * sum(fan_in * fan_out) per model) of the current
  step (hand-derived MLP gradients, fused Adam) and of the general step it replaced
  (`autograd=True`: autograd, torch's default Adam), side by side in one run;
- "share": that rate over a batched matmul with the workload's largest layer shape,
  (K, batch, hidden) @ (K, hidden, hidden), measured in the same run.
Target (issue 17): share >= 50% at hidden width 128.

    python benchmarks/ensemble_rate.py [--device cuda] [--out FILE]
    python benchmarks/ensemble_rate.py --quick --out /tmp/rate.json   # smoke
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from reference_models import cpu_name, fastest, matmul_gflops, support2_rows, sync, table, workload

from auditor.training.ensembles import device_for, fit_ensemble, init_ensemble
from auditor.training.recipes import PRESETS

DEFAULT_OUT = Path(__file__).parent / "results" / "ensemble_rate.json"
STEPS = {"current": False, "autograd (before)": True}


def time_fit(hp, x, y, subsets, seeds, device: torch.device, autograd: bool) -> float:
    """Seconds for `fit_ensemble` (initialisation outside the clock)."""
    ens = init_ensemble(hp, x.shape[1], 2, seeds, device)
    sync(device)
    start = time.perf_counter()
    fit_ensemble(ens, x, y, subsets, hp, [s + 1 for s in seeds], autograd=autograd)
    sync(device)
    return time.perf_counter() - start


def point(base, batch: int, hidden: int, args, device: torch.device) -> dict[str, Any]:
    """Both steps and the matmul rate at one (batch, hidden)."""
    hp = replace(PRESETS["default"], epochs=args.epochs, batch_size=batch, hidden=(hidden,) * 2)
    x, y, subsets, seeds = workload(base, args.rows, args.k)
    widths = [x.shape[1], *hp.hidden, 2]
    flops = 6 * hp.epochs * args.rows * sum(a * b for a, b in itertools.pairwise(widths)) * args.k
    gen = torch.Generator(device=device).manual_seed(0)
    a = torch.randn((args.k, batch, hidden), generator=gen, device=device)
    bmm = matmul_gflops(a, torch.randn((args.k, hidden, hidden), generator=gen, device=device))
    out: dict[str, Any] = {"batch": batch, "hidden": hidden, "flops": flops, "bmm_gflops": bmm}
    for name, autograd in STEPS.items():
        seconds = fastest(
            lambda ag=autograd: time_fit(hp, x, y, subsets, seeds, device, ag), args.repeats
        )
        out[name] = {"seconds": seconds, "gflops": flops / seconds / 1e9}
        out[name]["share"] = out[name]["gflops"] / bmm
    out["speedup"] = out["autograd (before)"]["seconds"] / out["current"]["seconds"]
    return out


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=ints, default=[64, 128, 512])
    parser.add_argument("--hiddens", type=ints, default=[64, 128, 256])
    parser.add_argument("--k", type=int, default=64, help="models per ensemble")
    parser.add_argument("--rows", type=int, default=2000, help="rows per model")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="fastest of N")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--quick", action="store_true", help="tiny smoke configuration")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.quick:
        args.batches, args.hiddens, args.k, args.rows, args.epochs = [64], [16], 4, 200, 1
        args.repeats = 1
    device = device_for(args.device)
    base = support2_rows()
    warm = workload(base, 64, 2)  # first torch calls (allocator, thread pool) are slow
    for autograd in STEPS.values():
        time_fit(replace(PRESETS["default"], epochs=1), *warm, device, autograd)
    points = [point(base, b, h, args, device) for h in args.hiddens for b in args.batches]

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(
        f"device: {device.type} ({name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; K {args.k}, {args.rows} rows per model, "
        f"{args.epochs} epochs, two hidden layers"
    )
    headers = ["batch", "hidden", "bmm GFLOP/s", "now s", "now GFLOP/s", "now share"]
    headers += ["before s", "before GFLOP/s", "before share", "speed-up"]
    rows = []
    for p in points:
        now, before = p["current"], p["autograd (before)"]
        cells = [str(p["batch"]), str(p["hidden"]), f"{p['bmm_gflops']:.1f}"]
        for step in (now, before):
            cells += [f"{step['seconds']:.3f}", f"{step['gflops']:.1f}", f"{step['share']:.0%}"]
        rows.append([*cells, f"{p['speedup']:.2f}x"])
    print(table("Ensemble rate against the batched matmul rate", headers, rows))
    met = {
        f"batch {p['batch']} hidden 128: share >= 50%": p["current"]["share"] >= 0.5
        for p in points
        if p["hidden"] == 128
    }
    print("\nTargets (reported, not enforced):")
    for key, ok in met.items():
        print(f"  {key}: {'met' if ok else 'NOT met'}")
    document = {
        "machine": {"torch": torch.__version__, "threads": torch.get_num_threads()}
        | {"device": device.type, "device_name": name},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "points": points,
        "targets": met,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
