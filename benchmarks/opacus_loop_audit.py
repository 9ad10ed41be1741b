"""The white-box DP audit of a hospital's own Opacus loop, each integration-bug fixture of
`tests/own_models/opacus_training.py` through `auditor init` and `auditor dp-audit` with
gradient canaries in the user's DPOptimizer: every estimator, the user's own accountant's
epsilon, the verdict and the wall time on this machine. RHC, 500 members; the claim is
epsilon 1 at delta 1e-5 (what the correct loop targets).

    python benchmarks/opacus_loop_audit.py [--runs 8] [--per-run 1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' loops

from own_models import opacus_training
from own_models.rhc import LABEL, features, write_splits
from own_models.torch_mlp import export_onnx

from auditor.config.spec import load_spec
from auditor.errors import AuditInputError
from auditor.init import infer, write_setup
from auditor.orchestration.run import run_dp_audit

LOOPS = (
    "dp_mlp",
    "tenth_noise",
    "noise_for_fewer_epochs",
    "noise_for_smaller_rate",
    "shuffled_batches",
    "batch_norm",
)
ESTIMATORS = ("one_run", "many_runs", "fdp_one_run", "gdp_many_runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--per-run", type=int, default=1000)
    parser.add_argument("--loops", default=",".join(LOOPS))
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/opacus_loop_audit.json")
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        splits = write_splits(root / "data", sizes=(500, 500, 1000))
        members = pd.read_csv(splits["members"])
        numeric = [c for c in features(members) if pd.api.types.is_numeric_dtype(members[c])]
        model = opacus_training.dp_mlp(members[numeric], members[LABEL], seed=0)
        path = export_onnx(model, len(numeric), root / "model.onnx")
        inferred = infer(path, splits["members"], sensitive=["sex"])
        inferred.metadata["claims"] = {"epsilon": opacus_training.EPSILON, "delta": 1e-5}
        write_setup(inferred, path, splits, root / "audit.toml", attacks=["loss"])
        base = (root / "audit.toml").read_text(encoding="utf-8")
        print(
            f"{'loop':<24} {'runs':>4}"
            + "".join(f" {e:>13}" for e in ESTIMATORS)
            + f" {'accountant':>10} {'verdict':<10} {'seconds':>7}"
        )
        for loop in args.loops.split(","):
            spec = root / f"{loop}.toml"
            text = base.replace(
                "[artifact]", f'[artifact]\ntrain = "own_models.opacus_training:{loop}"'
            )
            text += (
                f'\n[dp_audit]\ncanaries = ["gradient"]\nruns = {args.runs}\n'
                f"per_run = {args.per_run}\n"
            )
            spec.write_text(text, encoding="utf-8")
            start = time.perf_counter()
            try:
                audit = run_dp_audit(load_spec(spec))["dp_audit"]
            except AuditInputError as exc:
                seconds = round(time.perf_counter() - start, 1)
                print(f"{loop:<24} refused: {exc}"[:200])
                rows.append({"loop": loop, "refused": str(exc), "seconds": seconds})
                continue
            seconds = round(time.perf_counter() - start, 1)
            gradient = audit["kinds"]["gradient"]
            values = {e: gradient[e]["value"] for e in ESTIMATORS}
            verdict = "refuted" if audit["claim_refuted"] else "not refuted"
            accounted = audit["accounted_epsilon"]
            print(
                f"{loop:<24} {args.runs:>4}"
                + "".join(
                    f" {v:>13.2f}" if v is not None else f" {'n/a':>13}" for v in values.values()
                )
                + f" {accounted if accounted is None else round(accounted, 2)!s:>10} {verdict:<10}"
                f" {seconds:>7}"
            )
            rows.append(
                {
                    "loop": loop,
                    "runs": args.runs,
                    "per_run": args.per_run,
                    **values,
                    "accounted_epsilon": accounted,
                    "claimed": audit["claimed"]["epsilon"],
                    "claim_refuted": audit["claim_refuted"],
                    "refuted_without_assumption": audit["refuted_without_assumption"],
                    "seconds": seconds,
                }
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
