"""RMIA against offline LiRA with few reference models (1, 2, 4, and 64 for scale).

RMIA's claim (Zarifzadeh et al. 2024) is that it stays strong with very few reference
models, where LiRA needs many. This runs both offline attacks (LiRA with fixed variance,
the only LiRA that works with one model) on demo fixtures built from SUPPORT2 and prints
AUC and TPR at 1% / 0.1% FPR with 95% bootstrap intervals, beside LOSS. Not a timing.

    python benchmarks/few_references.py [--fixtures overfit_mlp,supervised] [--ks 1,2,4,64]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from pathlib import Path

from auditor.config.spec import load_spec
from auditor.demo import build_fixtures
from auditor.orchestration.run import run_audit

ATTACKS = ("loss", "lira_offline_fixed", "rmia")


def _cell(fig: dict) -> str:
    if fig["value"] is None:
        return "n/r"
    return f"{fig['value']:.4f} [{fig['lower']:.4f}, {fig['upper']:.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default="overfit_mlp,supervised")
    parser.add_argument("--ks", default="1,2,4,64")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/few_references.json"))
    args = parser.parse_args()
    fixtures = tuple(args.fixtures.split(","))
    ks = [int(k) for k in args.ks.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AUDITOR_CACHE_DIR"] = str(Path(tmp) / "cache")
        specs = build_fixtures(Path(tmp), bootstrap=args.bootstrap, names=fixtures)
        for name in fixtures:
            text = specs[name].read_text()
            text = re.sub(r"(?m)^run = .*$", "run = " + json.dumps(list(ATTACKS)), text)
            for k in ks:
                variant = specs[name].with_name(f"{name}-k{k}.toml")
                variant.write_text(
                    re.sub(r"(?m)^reference_models = .*$", f"reference_models = {k}", text)
                )
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
                        }
                    )
    header = f"{'fixture':12} {'K':>3} {'attack':19} {'AUC':26} {'TPR@1% FPR':26} TPR@0.1% FPR"
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["attack"] == "loss" and r["k"] != ks[0]:
            continue  # LOSS does not use reference models: one row per fixture
        print(
            f"{r['fixture']:12} {r['k'] if r['attack'] != 'loss' else '-':>3} "
            f"{r['attack']:19} {_cell(r['auc']):26} {_cell(r['tpr_at_fpr']['0.01']):26} "
            f"{_cell(r['tpr_at_fpr']['0.001'])}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "ks": ks, "fixtures": fixtures}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
