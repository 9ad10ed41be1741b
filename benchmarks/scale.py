"""How an audit's cost grows with the data and the reference models: members 2,000 / 20,000
/ 200,000 and K = 16 / 64 / 256, each cell a cold audit in its own process.

The data is SUPPORT2 (9,105 patients) resampled with replacement to each size, every
numeric value moved by Gaussian noise of 0.05 of its column's standard deviation, so that
no two records are equal: synthetic, stated as such, with SUPPORT2's marginals and
correlations. Members and non-members have N records each, the population 4N/3 (so that
offline references train on N records, as the target did), test 2,000. The target is the
built-in MLP (one hidden layer of 64, 40 epochs, batch 128) trained on the members; the
audit runs LOSS, LiRA online and offline, RMIA and QMIA with 1,000 bootstrap replicates.

Per cell: wall time of each stage, the peak resident memory of the audit process and of
its shard workers (getrusage), the cache's size on disk, and the widths of the AUC and TPR
at 1% FPR intervals. Then, per K, how each stage grows with members: the slope of log time
against log members (1: linear).

    python benchmarks/scale.py [--members 2000,20000,200000] [--ks 16,64,256]
                               [--skip 200000x256] [--out benchmarks/results/scale.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ATTACKS = ["loss", "lira_online", "lira_offline", "rmia", "qmia"]
SPEC = """\
name = "scale"
seed = 7
[artifact]
path = "model.safetensors"
[data]
members = "members.csv"
non_members = "non_members.csv"
test = "test.csv"
population = "population.csv"
label = "{label}"
id = "{id}"
[attacks]
run = {attacks}
reference_models = {k}
bootstrap = 1000
[utility]
dp_baseline = false
"""


def _resampled(n: int, rng: np.random.Generator, offset: int) -> object:
    """n SUPPORT2 records drawn with replacement, numeric values moved by noise."""
    from auditor.data.embedded import ID, NUMERIC, load_support2

    frame = load_support2()
    out = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
    for column in NUMERIC:
        sd = float(frame[column].std())
        out[column] = out[column] + rng.normal(0.0, 0.05 * sd, n)
    out[ID] = np.arange(n) + offset
    return out


def cell(members: int, k: int, folder: Path) -> dict:
    """One cold audit: build the data and the target, run, measure."""
    os.environ["AUDITOR_CACHE_DIR"] = str(folder / "cache")
    from auditor.artifacts.models import ArtifactMetadata, save_model
    from auditor.config.spec import load_spec
    from auditor.core.encoding import fit_encoding
    from auditor.data.embedded import CATEGORICAL, ID, LABEL, NUMERIC
    from auditor.orchestration.run import run_audit
    from auditor.training.recipes import RecipeInput, TrainParams, run_recipe

    rng = np.random.default_rng(members)
    sizes = {
        "members": members,
        "non_members": members,
        "test": 2000,
        "population": (4 * members) // 3 + 1,
    }
    start = time.perf_counter()
    frames = {}
    for i, (name, n) in enumerate(sizes.items()):
        frames[name] = _resampled(n, rng, 10_000_000 * i)
        frames[name].to_csv(folder / f"{name}.csv", index=False)
    data_s = time.perf_counter() - start
    encoding = fit_encoding(frames["members"], numeric=list(NUMERIC), categorical=list(CATEGORICAL))
    hp = TrainParams()
    start = time.perf_counter()
    x = encoding.encode(frames["members"])
    trained = run_recipe("supervised", RecipeInput(x, frames["members"][LABEL].to_numpy()), hp, 1)
    target_s = time.perf_counter() - start
    meta = ArtifactMetadata(
        architecture="mlp",
        n_features=encoding.n_features,
        n_classes=2,
        label=LABEL,
        encoding=encoding,
        recipe="supervised",
        recipe_params=hp.to_dict(),
        seed=1,
    )
    save_model(trained.model, meta, folder / "model.safetensors")
    spec = folder / "audit.toml"
    text = SPEC.format(label=LABEL, id=ID, attacks=json.dumps(ATTACKS), k=k)
    spec.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    outcome = run_audit(load_spec(spec))
    audit_s = time.perf_counter() - start
    cache = sum(p.stat().st_size for p in (folder / "cache").rglob("*") if p.is_file())
    membership = outcome.result["privacy"]["membership"]
    return {
        "members": members,
        "k": k,
        "data_s": round(data_s, 1),
        "target_s": round(target_s, 1),
        "audit_s": round(audit_s, 1),
        "stages": {s: v for s, v in outcome.timings.items() if "trained" not in s},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_worker_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "cache_mb": round(cache / 2**20, 1),
        "widths": {
            a: {
                "auc": round(m["auc"]["upper"] - m["auc"]["lower"], 4),
                "tpr_at_fpr_0.01": round(
                    m["tpr_at_fpr"]["0.01"]["upper"] - m["tpr_at_fpr"]["0.01"]["lower"], 4
                ),
            }
            for a, m in membership.items()
        },
    }


def slopes(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Per K and stage: the slope of log seconds against log members (1 is linear)."""
    out: dict[str, dict[str, float]] = {}
    for k in sorted({r["k"] for r in rows}):
        cells = sorted((r for r in rows if r["k"] == k), key=lambda r: r["members"])
        if len(cells) < 2:
            continue
        stages = set.intersection(*(set(r["stages"]) for r in cells)) | {"audit_s"}
        out[str(k)] = {}
        for stage in sorted(stages):
            seconds = [r["audit_s"] if stage == "audit_s" else r["stages"][stage] for r in cells]
            if min(seconds) <= 0.05:
                continue  # too short to time
            n = np.log([r["members"] for r in cells])
            out[str(k)][stage] = round(float(np.polyfit(n, np.log(seconds), 1)[0]), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="2000,20000,200000")
    parser.add_argument("--ks", default="16,64,256")
    parser.add_argument("--skip", default="200000x256", help="cells to leave out: NxK,...")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/scale.json"))
    parser.add_argument("--cell", help=argparse.SUPPRESS)  # N,K,folder: one cell (a child)
    args = parser.parse_args()
    if args.cell:
        n, k, folder = args.cell.split(",", 2)
        print(json.dumps(cell(int(n), int(k), Path(folder))))
        return
    skip = set(filter(None, args.skip.split(",")))
    rows = []
    for n in (int(v) for v in args.members.split(",")):
        for k in (int(v) for v in args.ks.split(",")):
            if f"{n}x{k}" in skip:
                print(f"{n:>7} members, K {k:>3}: skipped", flush=True)
                continue
            with tempfile.TemporaryDirectory(prefix="scale-") as tmp:
                done = subprocess.run(
                    [sys.executable, __file__, "--cell", f"{n},{k},{tmp}"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
            if done.returncode != 0:
                print(f"{n} x {k} failed:\n{done.stderr[-3000:]}", flush=True)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{n:>7} members, K {k:>3}: audit {row['audit_s']:>7.1f} s (target "
                f"{row['target_s']} s), peak {row['peak_rss_mb']} MB (workers "
                f"{row['peak_worker_rss_mb']} MB), cache {row['cache_mb']} MB",
                flush=True,
            )
            for stage, seconds in row["stages"].items():
                print(f"           {stage:<36} {seconds:>8.1f} s")
    growth = slopes(rows)
    print("\nslope of log time against log members (1: linear), per K:")
    for k, stages in growth.items():
        print(f"  K {k}: " + ", ".join(f"{s} {v}" for s, v in stages.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "slopes": growth}, indent=2) + "\n")


if __name__ == "__main__":
    main()
