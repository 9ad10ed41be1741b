"""The `dp_coding` fixtures: the multi-label coder (each SUPPORT2 patient's 11 diagnoses
from physiology and demographics, the analogue of medical coding) trained normally and with
DP-SGD at epsilon 1, 3 and 8, and the table of the two trade-offs the coding result reports:
micro-F1, and the gap in micro recall between male and female patients."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from auditor.demo.labels import build_label_fixture
from auditor.training.recipes import PRESETS, TrainParams

EPSILONS = (1.0, 3.0, 8.0)
ATTACKS = ("loss", "confidence", "entropy", "lira_offline", "rmia")


def fixture_names() -> list[str]:
    """The non-private coder first, then one per epsilon."""
    return ["dp_coding_nonprivate", *(f"dp_coding_eps{e:g}" for e in EPSILONS)]


def build_dp_coding(
    out: Path,
    *,
    seed: int = 7,
    bootstrap: int = 1000,
    reference_models: int = 16,
    attacks: tuple[str, ...] = ATTACKS,
    sizes: dict[str, int] | None = None,
    utility_bootstrap: int = 200,
) -> dict[str, Path]:
    """Write the four coders (data/, artifacts/, specs/ under `out`); spec paths by name."""
    specs = {}
    common: dict[str, Any] = dict(
        structure="multilabel",
        seed=seed,
        attacks=attacks,
        bootstrap=bootstrap,
        reference_models=reference_models,
        utility_bootstrap=utility_bootstrap,
        sizes=sizes,
    )
    name, *private = fixture_names()
    # The non-private coder trains exactly as the DP ones (architecture, epochs, batch,
    # learning rate) without clipping or noise: the comparison isolates DP-SGD's cost.
    dp = PRESETS["dp"]
    same = TrainParams(**{f.name: getattr(dp, f.name) for f in fields(TrainParams)})
    specs[name] = build_label_fixture(
        out, name=name, params=same, preset="dp's training without clipping or noise", **common
    ).spec
    for name, epsilon in zip(private, EPSILONS, strict=True):
        hp = replace(PRESETS["dp"], target_epsilon=epsilon)
        specs[name] = build_label_fixture(out, name=name, recipe="dp_sgd", params=hp, **common).spec
    return specs


def _estimate(figure: Any) -> dict[str, Any]:
    figure = figure if isinstance(figure, dict) else {}
    return {k: figure.get(k) for k in ("value", "lower", "upper")}


def coding_tradeoffs(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per coder: its epsilon claim, micro-F1 and the recall gap by sex (each with
    its interval), and the strongest attack's AUC."""
    rows = []
    for name in fixture_names():
        result = results.get(name)
        if result is None:
            continue
        membership = result.get("privacy", {}).get("membership", {})
        strongest = max(membership, key=lambda a: membership[a]["auc"]["value"], default=None)
        rows.append(
            {
                "fixture": name,
                "epsilon": result.get("artifact", {}).get("claims", {}).get("epsilon"),
                "f1_micro": _estimate(
                    result.get("utility", {}).get("artifact", {}).get("f1_micro")
                ),
                "recall_gap_sex": _estimate(
                    result.get("fairness", {}).get("sex", {}).get("recall_gap")
                ),
                "strongest_attack": strongest,
                "strongest_auc": _estimate(membership[strongest]["auc"]) if strongest else None,
            }
        )
    return rows
