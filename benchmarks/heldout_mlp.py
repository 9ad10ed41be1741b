"""The held-out-like MLP audit of the speed issue, built from SUPPORT2: an MLP with two
hidden layers of 128, 300 epochs, batch 64, no weight decay, trained on the 2,000 members;
audited with LiRA online and offline on K = 64 reference models (cold cache), with the wall
time of every stage.

    python benchmarks/heldout_mlp.py [--k 64] [--epochs 300] [--out benchmarks/results]

Prints the stage table and writes <out>/heldout_mlp.json. Target (in the issue): at most
5 minutes on 2 cores for online + offline.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.config.spec import load_spec
from auditor.data.embedded import ID, LABEL
from auditor.demo import support2_splits
from auditor.orchestration.run import run_audit
from auditor.training.recipes import RecipeInput, TrainParams, run_recipe

SPEC = """\
name = "heldout_mlp"
seed = 7
[artifact]
path = "model.safetensors"
[data]
members = "data/members.csv"
non_members = "data/non_members.csv"
test = "data/test.csv"
population = "data/population.csv"
label = "{label}"
id = "{id}"
[attacks]
run = ["lira_online", "lira_offline"]
reference_models = {k}
bootstrap = 1000
[utility]
dp_baseline = false
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    hp = TrainParams(hidden=(128, 128), epochs=args.epochs, batch_size=64, weight_decay=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["AUDITOR_CACHE_DIR"] = str(root / "cache")  # cold: nothing cached
        splits, encoding = support2_splits(root, seed=7)
        members = RecipeInput(encoding.encode(splits.members), splits.members[LABEL].to_numpy())
        start = time.perf_counter()
        trained = run_recipe("supervised", members, hp, seed=11)
        target_s = time.perf_counter() - start
        meta = ArtifactMetadata(
            architecture="mlp",
            n_features=encoding.n_features,
            n_classes=2,
            label=LABEL,
            encoding=encoding,
            recipe="supervised",
            recipe_params=hp.to_dict(),
            seed=11,
        )
        save_model(trained.model, meta, root / "model.safetensors")
        spec = root / "audit.toml"
        spec.write_text(SPEC.format(label=LABEL, id=ID, k=args.k), encoding="utf-8")
        start = time.perf_counter()
        outcome = run_audit(load_spec(spec))
        audit_s = time.perf_counter() - start
    membership = outcome.result["privacy"]["membership"]
    report = {
        "settings": {**vars(args), "out": str(args.out), "threads": torch.get_num_threads()},
        "target_training_s": round(target_s, 1),
        "audit_s": round(audit_s, 1),
        "stages": outcome.timings,
        "figures": {
            a: {"auc": m["auc"], "tpr_at_fpr_0.01": m["tpr_at_fpr"]["0.01"]}
            for a, m in membership.items()
        },
    }
    print(f"target model trained in {target_s:.1f} s; audit (cold cache) {audit_s:.1f} s")
    for stage, seconds in outcome.timings.items():
        print(f"  {stage:<40} {seconds:>8}")
    for attack, m in membership.items():
        print(f"  {attack}: AUC {m['auc']['value']:.3f}, TPR@1% {m['tpr_at_fpr']['0.01']['value']}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "heldout_mlp.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
