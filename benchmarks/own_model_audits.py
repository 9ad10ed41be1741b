"""Models the auditor did not build, audited as their user would: `auditor init` (nothing
typed by hand) then `auditor run`, each on RHC (500 members, 500 non-members, 1,000 test
records, the rest population), with a cold cache. Prints, per model: how the references
were trained, the wall time of init and of the run (and of its stages), and AUC and TPR at
1% FPR per attack with 95% intervals and whether reference fidelity held. Not a test.

The models are those of the own-model tests (`tests/own_models`): a skops Pipeline of
fully grown boosted trees, LightGBM and XGBoost models (fully grown), and a 2 x 128 MLP
trained 300 epochs by plain torch code, exported to ONNX and to TorchScript.

    python benchmarks/own_model_audits.py [--k 64] [--models pipeline,lightgbm,...] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' models

from own_models.rhc import LABEL, features, write_splits
from own_models.torch_mlp import export_onnx, train_mlp
from own_models.training import gradient_boosting

from auditor.config.spec import load_spec
from auditor.init import infer, write_setup
from auditor.orchestration.run import run_audit

ATTACKS = ["loss", "lira_online", "lira_offline", "rmia", "qmia"]


def _numeric(frame: pd.DataFrame) -> list[str]:
    return [c for c in features(frame) if pd.api.types.is_numeric_dtype(frame[c])]


def pipeline(members: pd.DataFrame, folder: Path) -> Path:
    import skops.io

    skops.io.dump(gradient_boosting(members[features(members)], members[LABEL]), folder / "m.skops")
    return folder / "m.skops"


def lightgbm_model(members: pd.DataFrame, folder: Path) -> Path:
    import lightgbm

    model = lightgbm.LGBMClassifier(
        n_estimators=300, num_leaves=255, min_child_samples=2, random_state=0, verbose=-1
    )
    model.fit(members[_numeric(members)].to_numpy(), members[LABEL])
    model.booster_.save_model(str(folder / "m.txt"))
    return folder / "m.txt"


def xgboost_model(members: pd.DataFrame, folder: Path) -> Path:
    import xgboost

    model = xgboost.XGBClassifier(n_estimators=200, max_depth=8, learning_rate=0.1, n_jobs=1)
    model.fit(members[_numeric(members)], members[LABEL])
    model.save_model(str(folder / "m.ubj"))
    return folder / "m.ubj"


def onnx_mlp(members: pd.DataFrame, folder: Path) -> Path:
    numeric = _numeric(members)
    model = train_mlp(members[numeric], members[LABEL], seed=0)
    return export_onnx(model, len(numeric), folder / "m.onnx")


def torchscript_mlp(members: pd.DataFrame, folder: Path) -> Path:
    import torch

    model = train_mlp(members[_numeric(members)], members[LABEL], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(model).save(str(folder / "m.pt"))
    return folder / "m.pt"


MODELS: dict[str, Callable[[pd.DataFrame, Path], Path]] = {
    "pipeline": pipeline,
    "lightgbm": lightgbm_model,
    "xgboost": xgboost_model,
    "onnx_mlp": onnx_mlp,
    "torchscript_mlp": torchscript_mlp,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    report: dict[str, object] = {"settings": {"k": args.k, "attacks": ATTACKS}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        splits = write_splits(root / "data", sizes=(500, 500, 1000))
        members = pd.read_csv(splits["members"])
        for name in args.models.split(","):
            folder = root / name
            folder.mkdir()
            os.environ["AUDITOR_CACHE_DIR"] = str(folder / "cache")  # cold
            model = MODELS[name](members, folder)
            code = name == "torchscript_mlp"
            start = time.perf_counter()
            inferred = infer(model, splits["members"], sensitive=["sex"], allow_code=code)
            spec = folder / "audit.toml"
            write_setup(inferred, model, splits, spec, attacks=ATTACKS)
            text = spec.read_text().replace("[attacks]", f"[attacks]\nreference_models = {args.k}")
            spec.write_text(text)
            init_s = time.perf_counter() - start
            start = time.perf_counter()
            outcome = run_audit(load_spec(spec), allow_code=code)
            run_s = time.perf_counter() - start
            training = outcome.result["artifact"]["training"]
            figures = {
                attack: {
                    "auc": entry["auc"],
                    "tpr_at_fpr_0.01": entry["tpr_at_fpr"]["0.01"],
                    "fidelity_flagged": (entry.get("reference_fidelity") or {}).get("flagged"),
                }
                for attack, entry in outcome.result["privacy"]["membership"].items()
            }
            report[name] = {
                "procedure": training["procedure"],
                "chosen": training.get("chosen"),
                "init_s": round(init_s, 2),
                "run_s": round(run_s, 1),
                "stages": outcome.timings,
                "figures": figures,
            }
            print(f"\n{name}: {training['procedure']}")
            if training.get("chosen"):
                print(f"  fitted: {training['chosen']} (fit {training['fit']})")
            print(f"  init {init_s:.2f} s, run {run_s:.1f} s (cold cache, K = {args.k})")
            for attack, f in figures.items():
                auc, tpr = f["auc"], f["tpr_at_fpr_0.01"]
                print(
                    f"  {attack:<13} AUC {auc['value']:.3f} [{auc['lower']:.3f}, "
                    f"{auc['upper']:.3f}]  TPR@1% {tpr['value']:.3f} [{tpr['lower']:.3f}, "
                    f"{tpr['upper']:.3f}]  flagged {f['fidelity_flagged']}"
                )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "own_model_audits.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
