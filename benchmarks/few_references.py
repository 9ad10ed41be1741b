"""Power per reference model: LiRA online and offline, RMIA and QMIA with K = 2, 4, 8, 16
and 64 reference models.

RMIA's claim (Zarifzadeh et al. 2024) is that it stays strong with very few reference
models, where LiRA needs many; QMIA needs none. This runs every calibrated attack (LiRA
offline also with fixed variance, the only LiRA that works with one model) on demo
fixtures built from SUPPORT2 and, with `--own`, on models the auditor did not build (RHC,
through `auditor init`, as `own_model_audits.py` builds them), and prints AUC and TPR at 1% /
0.1% FPR with 95% bootstrap intervals, beside LOSS. Not a timing.

    python benchmarks/few_references.py [--fixtures overfit_mlp,supervised] [--ks 2,4,8,16,64]
    python benchmarks/few_references.py --fixtures "" --own onnx_mlp,lightgbm
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from auditor.config.spec import load_spec
from auditor.demo import build_fixtures
from auditor.orchestration.run import run_audit

ATTACKS = (
    "loss",
    "qmia",
    "lira_online",
    "lira_online_fixed",
    "lira_offline",
    "lira_offline_fixed",
    "rmia",
)
NO_REFERENCES = ("loss", "qmia")  # one row per fixture: they read no reference model


def _cell(fig: dict) -> str:
    if fig["value"] is None:
        return "n/r"
    return f"{fig['value']:.4f} [{fig['lower']:.4f}, {fig['upper']:.4f}]"


def _own_specs(folder: Path, names: tuple[str, ...]) -> dict[str, Path]:
    """The specs `auditor init` writes for the own-model benchmark's models on RHC."""
    if not names:
        return {}
    from own_model_audits import MODELS, write_splits  # the tests' models, as it builds them

    from auditor.init import infer, write_setup

    splits = write_splits(folder / "data", sizes=(500, 500, 1000))
    members = pd.read_csv(splits["members"])
    specs = {}
    for name in names:
        (folder / name).mkdir(parents=True)
        model = MODELS[name](members, folder / name)
        code = name == "torchscript_mlp"
        inferred = infer(model, splits["members"], sensitive=["sex"], allow_code=code)
        specs[name] = folder / name / "audit.toml"
        write_setup(inferred, model, splits, specs[name], attacks=list(ATTACKS))
    return specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default="overfit_mlp,supervised")
    parser.add_argument("--ks", default="2,4,8,16,64")
    parser.add_argument("--own", default="", help="own models (own_model_audits.py names)")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/few_references.json"))
    args = parser.parse_args()
    fixtures = tuple(f for f in args.fixtures.split(",") if f)
    own = tuple(m for m in args.own.split(",") if m)
    ks = [int(k) for k in args.ks.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AUDITOR_CACHE_DIR"] = str(Path(tmp) / "cache")
        specs = (
            build_fixtures(Path(tmp), bootstrap=args.bootstrap, names=fixtures) if fixtures else {}
        )
        specs = {name: specs[name] for name in fixtures}
        specs.update(_own_specs(Path(tmp) / "own", own))
        for name, spec in specs.items():
            text = spec.read_text()
            text = re.sub(r"(?m)^run = .*$", "run = " + json.dumps(list(ATTACKS)), text)
            for k in ks:
                variant = spec.with_name(f"{name}-k{k}.toml")
                if re.search(r"(?m)^reference_models = ", text):
                    body = re.sub(r"(?m)^reference_models = .*$", f"reference_models = {k}", text)
                else:
                    body = text.replace("[attacks]", f"[attacks]\nreference_models = {k}", 1)
                variant.write_text(body)
                membership = run_audit(load_spec(variant)).result["privacy"]["membership"]
                for attack in ATTACKS:
                    m = membership[attack]
                    rows.append(
                        {
                            "fixture": name,
                            "k": k,
                            "attack": attack,
                            "auc": m["auc"],
                            "tpr_at_fpr": m["tpr_at_fpr"],
                            "flagged": (m.get("reference_fidelity") or {}).get("flagged"),
                        }
                    )
    header = f"{'fixture':12} {'K':>3} {'attack':19} {'AUC':26} {'TPR@1% FPR':26} TPR@0.1% FPR"
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["attack"] in NO_REFERENCES and r["k"] != ks[0]:
            continue  # they read no reference model: one row per fixture
        flag = " (flagged)" if r["flagged"] else ""
        print(
            f"{r['fixture']:12} {r['k'] if r['attack'] not in NO_REFERENCES else '-':>3} "
            f"{r['attack']:19} {_cell(r['auc']):26} {_cell(r['tpr_at_fpr']['0.01']):26} "
            f"{_cell(r['tpr_at_fpr']['0.001'])}{flag}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    named = [*fixtures, *own]
    args.out.write_text(json.dumps({"rows": rows, "ks": ks, "fixtures": named}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
