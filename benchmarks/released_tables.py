"""Every membership attack on each released-table fixture, side by side: AUC and TPR at
10%, 1% and 0.1% FPR with 95% intervals, and the members each attack on the records
exposes at 1% FPR.

Fixtures: on RHC (not the demo's data; 1,000 members), tables made by code the auditor did
not write and audited from `auditor init` with no hand-written file (`tests/released_tables`):
a near-copy of a fifth of the members, 200 population records, a Gaussian copula of the
members, epsilon-1 noisy marginals, and the leaky generator named in the spec (shadow
releases, consumer LiRA on generated references); beside them the demo's condensed set and
stimuli on SUPPORT2 (their own recipes' references).

    python benchmarks/released_tables.py [--out benchmarks/results] [--references 8]

Prints one table and writes <out>/released_tables.json. Not a timing benchmark (the seconds
of each audit are recorded, on whatever machine ran it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fixtures' generators and the RHC splits

from own_models.rhc import ID, write_splits  # noqa: E402
from released_tables.generators import (  # noqa: E402
    copula,
    leaky,
    noisy_marginals,
    public_ranges,
)
from released_tables.releases import near_copy, population_release  # noqa: E402

from auditor.config.spec import load_spec  # noqa: E402
from auditor.demo import build_fixtures  # noqa: E402
from auditor.init import infer_table, write_table_setup  # noqa: E402
from auditor.orchestration.run import run_audit  # noqa: E402

FPRS = ("0.1", "0.01", "0.001")


def _tables(splits: dict[str, Path]) -> dict[str, tuple[pd.DataFrame, str, dict]]:
    """name -> (released table, extra [artifact] lines, claims)."""
    members = pd.read_csv(splits["members"])
    population = pd.read_csv(splits["population"])
    plain = members.drop(columns=[ID])
    ranges = public_ranges(population.drop(columns=[ID]))
    return {
        "near_copy": (near_copy(members, share=0.2, noise=0.01, seed=1), "", {}),
        "population": (population_release(population, n=200, seed=2), "", {}),
        "copula": (copula(plain, seed=3), "", {}),
        "noisy_marginals_eps1": (
            noisy_marginals(plain, 1000, 1.0, 4, ranges),
            "",
            {"epsilon": 1.0, "delta": 1e-5},
        ),
        "leaky_with_generator": (
            leaky(plain, seed=1),
            'generate = "released_tables.generators:leaky"\n',
            {},
        ),
    }


def _rhc_specs(folder: Path, references: int) -> dict[str, Path]:
    splits = write_splits(folder / "data")
    specs = {}
    for name, (table, artifact, claims) in _tables(splits).items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False)
        inferred = infer_table(
            path, splits["members"], splits["population"], sensitive=["sex", "race"]
        )
        inferred.metadata["claims"] = claims
        spec = folder / f"{name}.toml"
        write_table_setup(inferred, path, splits, spec, force=True)
        text = spec.read_text(encoding="utf-8").replace("[artifact]\n", f"[artifact]\n{artifact}")
        if artifact:  # the generator makes references: the calibrated attacks run too
            run = 'run = ["loss", "qmia", "lira_offline", "rmia"]\n'
            text = re.sub(r"^run = .*\n", "", text, count=1, flags=re.MULTILINE)
            extra = f"{run}reference_models = {references}\nshadow_releases = {references}\n"
            text = text.replace("[attacks]\n", f"[attacks]\n{extra}")
        spec.write_text(text + '\n[consumer]\narchitectures = ["mlp"]\n', encoding="utf-8")
        specs[name] = spec
    return specs


def _rows(name: str, result: dict[str, Any], seconds: float) -> list[dict[str, Any]]:
    rows = []
    for attack, entry in result["privacy"]["membership"].items():
        tprs = entry["tpr_at_fpr"]
        exposed = entry.get("exposed", {})
        rows.append(
            {
                "fixture": name,
                "attack": attack,
                "auc": entry["auc"],
                **{f"tpr_at_{f}": tprs.get(f) for f in FPRS},
                "exposed": exposed.get("flagged"),
                "beyond_chance": exposed.get("beyond_chance"),
                "epsilon_lower_bound": entry["epsilon_lower_bound"]["value"],
                "seconds": seconds,
            }
        )
    return rows


def _cell(estimate: dict[str, Any] | None) -> str:
    if not estimate or estimate.get("value") is None:
        return "n/r"
    return f"{estimate['value']:.3f} [{estimate['lower']:.3f}, {estimate['upper']:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--references", type=int, default=8)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        specs = _rhc_specs(folder / "rhc", args.references)
        demo = build_fixtures(
            folder / "demo",
            names=("condense", "stimuli", "stimuli_inhibited"),
            reference_models=args.references,
        )
        specs.update({f"demo_{n}": p for n, p in demo.items() if n != "supervised"})
        for name, spec in specs.items():
            start = time.perf_counter()
            outcome = run_audit(load_spec(spec))
            seconds = round(time.perf_counter() - start, 1)
            rows += _rows(name, outcome.result, seconds)
            print(f"{name}: {seconds} s", flush=True)
    head = f"{'fixture':<22} {'attack':<26} {'AUC':<22}" + "".join(
        f" {'TPR@' + f:<24}" for f in FPRS
    )
    print(f"\n{head} exposed")
    for r in rows:
        cells = "".join(f" {_cell(r[f'tpr_at_{f}']):<24}" for f in FPRS)
        exposed = "" if r["exposed"] is None else f"{r['exposed']}"
        print(f"{r['fixture']:<22} {r['attack']:<26} {_cell(r['auc']):<22}{cells} {exposed}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "released_tables.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {args.out / 'released_tables.json'}")


if __name__ == "__main__":
    main()
