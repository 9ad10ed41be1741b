"""The dp_coding table: the multi-label coder on SUPPORT2's diagnoses, trained normally and
with DP-SGD at epsilon 1, 3 and 8; micro-F1 and the recall gap by sex with their intervals.

    python benchmarks/dp_coding.py [--out dp-coding-out] [--references 16] [--bootstrap 1000]

Prints the table and writes <out>/dp_coding.json (with each audit's wall time).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from auditor.config.spec import load_spec
from auditor.demo.coding import build_dp_coding, coding_tradeoffs
from auditor.orchestration.run import run_audit


def _fmt(e: dict | None) -> str:
    if not e or e.get("value") is None:
        return "n/a"
    return f"{e['value']:.3f} [{e['lower']:.3f}, {e['upper']:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("dp-coding-out"))
    parser.add_argument("--references", type=int, default=16)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    specs = build_dp_coding(
        args.out, seed=args.seed, bootstrap=args.bootstrap, reference_models=args.references
    )
    built = time.perf_counter() - start
    results, seconds = {}, {}
    for name, spec in specs.items():
        t = time.perf_counter()
        results[name] = run_audit(load_spec(spec)).result
        seconds[name] = round(time.perf_counter() - t, 1)
    rows = coding_tradeoffs(results)
    print(
        f"{'fixture':<22} {'epsilon':>8}  {'micro-F1':<24} {'recall gap by sex':<24} strongest AUC"
    )
    for row in rows:
        eps = "none" if row["epsilon"] is None else f"{row['epsilon']:.2f}"
        print(
            f"{row['fixture']:<22} {eps:>8}  {_fmt(row['f1_micro']):<24} "
            f"{_fmt(row['recall_gap_sex']):<24} {_fmt(row['strongest_auc'])} "
            f"({row['strongest_attack']})"
        )
    report = {"rows": rows, "build_seconds": round(built, 1), "audit_seconds": seconds}
    report["settings"] = vars(args) | {"out": str(args.out)}
    (args.out / "dp_coding.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"build {built:.0f} s; audits {seconds}")


if __name__ == "__main__":
    main()
