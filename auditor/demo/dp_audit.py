"""Fixtures of the DP audit (`[dp_audit]`) on the embedded SUPPORT2 splits: DP-SGD at
epsilon 1, 3 and 8 (Opacus's accountant), a broken DP-SGD that claims epsilon 1 but adds a
tenth of the noise it should, and the same training with neither noise nor clipping (no
claim).

Each is a `dp_sgd` artifact trained on the members with the demo's DP preset; the broken
one's metadata claims what its plan said, as a broken implementation's would.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.artifacts.models import ArtifactMetadata, save_model
from auditor.data.embedded import ID, LABEL
from auditor.demo import support2_splits
from auditor.demo.specs import split_paths, write_spec
from auditor.result.schema import DP_BOUNDS
from auditor.training.recipes import PRESETS, RecipeInput, run_recipe
from auditor.training.recipes.params import DPParams

_DP = PRESETS["dp"]
assert isinstance(_DP, DPParams)
DP_AUDIT_FIXTURES: dict[str, DPParams] = {
    "dp_eps1": replace(_DP, target_epsilon=1.0),
    "dp_eps3": replace(_DP, target_epsilon=3.0),
    "dp_eps8": replace(_DP, target_epsilon=8.0),
    "dp_broken": replace(_DP, target_epsilon=1.0, noise_scale=0.1),
    # No noise and a clip norm no gradient reaches: ordinary training, through the same code.
    "non_private": replace(_DP, target_epsilon=1.0, noise_scale=0.0, max_grad_norm=1e6),
}
SUMMARIES = {
    "dp_eps1": "DP-SGD at epsilon 1",
    "dp_eps3": "DP-SGD at epsilon 3",
    "dp_eps8": "DP-SGD at epsilon 8",
    "dp_broken": "broken DP-SGD: claims epsilon 1, adds a tenth of the noise",
    "non_private": "the same training without noise or clipping (no privacy, no claim)",
}


def build_dp_audit_fixtures(
    out: Path,
    *,
    names: tuple[str, ...] = tuple(DP_AUDIT_FIXTURES),
    seed: int = 7,
    runs: int = 16,
    per_run: int = 1000,
    kinds: tuple[str, ...] = ("gradient", "input"),
    bootstrap: int = 200,
) -> dict[str, Path]:
    """Data, artifacts and specs under `out` for the fixtures `names`; spec paths by name.
    A fixture that claims an epsilon gets a gate on each bound: at most the claim."""
    splits, encoding = support2_splits(out, seed)
    members = RecipeInput(encoding.encode(splits.members), splits.members[LABEL].to_numpy())
    specs = {}
    for i, name in enumerate(names):
        hp = DP_AUDIT_FIXTURES[name]
        fixture_seed = seed * 1000 + 500 + i
        trained = run_recipe("dp_sgd", members, hp, fixture_seed)
        claims = {} if hp.noise_scale == 0 else trained.claims  # no noise: nothing to claim
        meta = ArtifactMetadata(
            architecture=hp.architecture,
            n_features=encoding.n_features,
            n_classes=2,
            label=LABEL,
            encoding=encoding,
            recipe="dp_sgd",
            recipe_params=hp.to_dict(),
            seed=fixture_seed,
            claims=claims,
        )
        save_model(trained.model, meta, out / "artifacts" / f"{name}.safetensors")
        mapping: dict[str, Any] = {
            "name": name,
            "seed": seed,
            "artifact": {"kind": "model", "path": f"../artifacts/{name}.safetensors"},
            "data": {**split_paths("../data"), "label": LABEL, "id": ID, "sensitive": ["sex"]},
            "attacks": {"run": ["loss"], "bootstrap": bootstrap},
            "utility": {"dp_baseline": False, "bootstrap": 50},
            "dp_audit": {"canaries": list(kinds), "runs": runs, "per_run": per_run},
        }
        if "epsilon" in claims:  # the claim, to 6 significant digits
            claim = float(f"{claims['epsilon']:.6g}")
            mapping["gates"] = {
                f"privacy.dp_audit.{k}.{b}": {"max": claim} for k in kinds for b in DP_BOUNDS
            }
        comment = f"DP audit fixture {name}: {SUMMARIES[name]}."
        specs[name] = write_spec(out / "specs" / f"{name}.toml", mapping, comment)
    return specs
