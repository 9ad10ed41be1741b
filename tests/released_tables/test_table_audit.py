"""A released table from code the auditor did not write, audited from `auditor init` to the
report with no hand-written file (RHC, not the demo's data): a near-copy of a fifth of the
members is found on the released records and that fifth is counted; a release of population
records holds chance in every membership interval; attacks that need re-made releases say
why they did not run; with the generator named, shadow releases calibrate two more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from own_models.rhc import ID, write_splits
from typer.testing import CliRunner

from auditor.cli import app
from released_tables.generators import leaky
from released_tables.releases import near_copy, population_release

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def splits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_splits(tmp_path_factory.mktemp("rhc-tables") / "data")


ONE_CONSUMER = '\n[consumer]\narchitectures = ["mlp"]\n'


def _init_and_run(
    released: pd.DataFrame,
    name: str,
    splits: dict[str, Path],
    attacks: str = "",
    artifact: str = "",
) -> tuple[dict, str, str]:
    """init (nothing written by hand but the table), validate, run; the result, the
    report and what init printed."""
    root = splits["members"].parent.parent
    table = root / f"{name}.csv"
    released.to_csv(table, index=False)
    spec = root / f"{name}.toml"
    runner = CliRunner(env={"COLUMNS": "250"})
    args = ["init", str(table), "--spec", str(spec), "--sensitive", "sex,race"]
    for split in ("members", "non_members", "test", "population"):
        args += [f"--{split.replace('_', '-')}", str(splits[split])]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (root / f"{name}.csv.meta.json").is_file()
    text = spec.read_text(encoding="utf-8")
    if "run =" in attacks:  # in place of the attacks init chose
        text = re.sub(r"^run = .*\n", "", text, count=1, flags=re.MULTILINE)
    text = text.replace("[attacks]\n", f"[attacks]\n{attacks}")
    text = text.replace("[artifact]\n", f"[artifact]\n{artifact}")
    spec.write_text(text + ONE_CONSUMER, encoding="utf-8")
    valid = runner.invoke(app, ["validate", str(spec)])
    assert valid.exit_code == 0, valid.output
    out = root / f"out-{name}"
    ran = runner.invoke(app, ["run", str(spec), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    return result, (out / "report.html").read_text(encoding="utf-8"), done.output


def test_a_near_copy_from_another_generator_is_found_and_its_fifth_counted(
    splits: dict[str, Path],
) -> None:
    members = pd.read_csv(splits["members"])
    released = near_copy(members, share=0.2, noise=0.01, seed=1)
    result, html, printed = _init_and_run(released, "near_copy", splits)
    assert "recipe external" in printed and "never on the members" in printed
    assert result["run"]["reference_models"]["recipe"] == "external"
    membership = result["privacy"]["membership"]
    best = max(membership.values(), key=lambda e: e["tpr_at_fpr"]["0.01"]["value"])
    assert best["tpr_at_fpr"]["0.01"]["lower"] >= 0.15
    assert set(best["tpr_at_fpr"]) == {"0.1", "0.01", "0.001"}
    exposed = best["exposed"]
    assert exposed["beyond_chance"]["lower"] >= 150 and exposed["flagged"] <= 230
    assert "Members exposed at 1% FPR" in html and "TPR at 10% FPR" in html
    # Positions stay in the result; the report shows counts only.
    assert str(exposed["positions"][:8])[1:-1] not in html


def test_a_population_release_holds_chance_and_calibrated_attacks_say_why_not(
    splits: dict[str, Path],
) -> None:
    population = pd.read_csv(splits["population"])
    released = population_release(population, n=200, seed=2)
    # 6 attacks x (AUC, TPR at 10% and at 1% FPR): each interval at 1 - 0.05 / 18
    # (Bonferroni), so that the test fails by chance at most 5% of the time.
    attacks = "confidence = 0.997\nbootstrap = 4000\n"
    result, _, _ = _init_and_run(released, "population", splits, attacks)
    spec_text = (splits["members"].parent.parent / "population.toml").read_text()
    assert "qmia" in spec_text
    membership = result["privacy"]["membership"]
    assert len(membership) == 6
    for name, entry in membership.items():
        auc = entry["auc"]
        assert auc["lower"] <= 0.5 <= auc["upper"], (name, auc)
        for fpr in ("0.1", "0.01"):
            tpr = entry["tpr_at_fpr"][fpr]
            assert tpr["lower"] <= float(fpr) <= tpr["upper"], (name, fpr, tpr)


def test_the_users_generator_calibrates_shadow_releases_and_references_cached_once(
    splits: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[artifact] generate` names the code that made the table: shadow releases from it
    calibrate LiRA over releases and a shadow-release classifier, which find the leaky
    generator's fifth; the consumer model's LiRA runs on references trained on releases the
    generator made; the result records the generator and its source's hash. Run again,
    the audit reads the shadow releases and references from the cache: the generator is
    not called again (each call counted)."""
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("AUDITOR_TEST_GENERATOR_CALLS", str(calls))
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    members = pd.read_csv(splits["members"]).drop(columns=[ID])
    generate = 'generate = "released_tables.generators:counted_leaky"\n'
    attacks = 'shadow_releases = 8\nreference_models = 4\nrun = ["loss", "lira_offline"]\n'
    result, html, _ = _init_and_run(leaky(members, seed=1), "leaky", splits, attacks, generate)
    assert result["artifact"]["generator"]["generate"].endswith(":counted_leaky")
    assert len(result["artifact"]["generator"]["source_sha256"]) == 64
    membership = result["privacy"]["membership"]
    for name in ("lira_releases", "shadow_classifier"):
        assert membership[name]["tpr_at_fpr"]["0.01"]["lower"] >= 0.15, name
        assert membership[name]["exposed"]["beyond_chance"]["lower"] >= 150, name
    assert "Attack: lira_releases" in html and "Attack: shadow_classifier" in html
    assert "lira_offline@mlp" in membership and "not_run" not in result["privacy"]
    assert result["run"]["reference_models"]["modes"] == ["offline"]
    made = len(calls.read_text().split())
    assert made == 8 + 4  # the shadow releases and one release per reference model
    spec = splits["members"].parent.parent / "leaky.toml"
    out = tmp_path / "again"
    ran = CliRunner().invoke(app, ["run", str(spec), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert len(calls.read_text().split()) == made  # from the cache: not called again
    again = json.loads((out / "result.json").read_text(encoding="utf-8"))["privacy"]
    for name in ("lira_releases", "shadow_classifier", "lira_offline@mlp"):
        assert again["membership"][name]["auc"] == membership[name]["auc"], name
