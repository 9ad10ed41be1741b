"""Weights artifacts (merged data vectors): the base alone leaks nothing about the sites'
patients; released site vectors expose per-site membership and site attribution."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from auditor.artifacts.models import load_model, save_model
from auditor.data.embedded import LABEL
from auditor.training.recipes import MergeParams, RecipeInput, run_recipe

pytestmark = pytest.mark.slow


def _audit(spec: Path) -> dict[str, Any]:
    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit

    return run_audit(load_spec(spec)).result


def test_merge_with_lambda_zero_is_the_base_and_leaks_nothing(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_specs["merge"].parent.parent, root)
    merged = load_model(root / "artifacts" / "merge.safetensors")
    encoding = merged.metadata.encoding
    members = pd.read_csv(root / "dialysis" / "members.csv")
    public = pd.read_csv(root / "dialysis" / "population.csv")
    data = RecipeInput(
        encoding.encode(members),
        members[LABEL].to_numpy(),
        encoding.encode(public),
        public_y=public[LABEL].to_numpy(),
        sites=members["hospital"].astype(str).to_numpy(),
    )
    zero = run_recipe("merge", data, MergeParams(merge_lambda=0.0), seed=5)
    for name, tensor in zero.model.state_dict().items():
        torch.testing.assert_close(tensor, zero.parts["base"].state_dict()[name], rtol=0, atol=0)
    save_model(zero.model, merged.metadata, root / "artifacts" / "merge.safetensors")
    spec = root / "specs" / "merge.toml"
    text = re.sub(r"(?m)^run = .*$", 'run = ["loss", "base_reference"]', spec.read_text())
    text = text.replace('site_vectors = "../artifacts/merge.sites.safetensors"\n', "")
    spec.write_text(text.replace("merge.base.safetensors", "merge.safetensors"))
    membership = _audit(spec)["privacy"]["membership"]
    for name in ("loss", "base_reference"):
        auc = membership[name]["auc"]
        assert auc["lower"] <= 0.5 <= auc["upper"], name


def test_site_vectors_expose_sites(demo_results: dict[str, Any]) -> None:
    result = demo_results["merge"]
    privacy = result["privacy"]
    assert set(privacy["sites"]) == {f"hospital_{i}" for i in range(1, 5)}
    attribution = privacy["site_attribution"]
    assert attribution["chance"] == 0.25 and attribution["accuracy"]["value"] is not None
    assert set(result["utility"]["sites"]) == set(privacy["sites"])
    assert result["artifact"]["released_with"] == ["base", "site vectors"]
    assert np.isfinite(privacy["membership"]["base_reference"]["auc"]["value"])


def test_base_reference_without_a_base_is_refused(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    from auditor.config.spec import load_spec
    from auditor.errors import AuditInputError

    root = tmp_path / "demo"
    shutil.copytree(demo_specs["merge"].parent.parent, root)
    spec = root / "specs" / "merge.toml"
    text = spec.read_text().replace('base = "../artifacts/merge.base.safetensors"\n', "")
    spec.write_text(text.replace('site_vectors = "../artifacts/merge.sites.safetensors"\n', ""))
    with pytest.raises(AuditInputError, match="base_reference"):
        load_spec(spec)
