"""The issue's must-shows on the embedded SUPPORT2 data: attacks find members of the
leaky fixture, find nothing on a model that never saw them, and DP bounds hold."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_loss_finds_members_of_the_overfit_fixture(demo_results: dict[str, Any]) -> None:
    loss = demo_results["overfit"]["privacy"]["membership"]["loss"]
    assert loss["auc"]["lower"] > 0.55
    assert loss["tpr_at_fpr"]["0.01"]["lower"] > 0.01


def test_no_attack_finds_members_of_a_model_that_never_saw_them(
    demo_results: dict[str, Any],
) -> None:
    from auditor.demo import ATTACKS

    membership = demo_results["population"]["privacy"]["membership"]
    assert set(membership) == set(ATTACKS)
    for name, figures in membership.items():
        assert figures["auc"]["lower"] <= 0.5 <= figures["auc"]["upper"], name


def test_dp_fixture_leaks_less_and_its_bound_respects_the_claim(
    demo_results: dict[str, Any],
) -> None:
    dp, overfit = demo_results["dp_sgd"], demo_results["overfit"]
    claimed = dp["artifact"]["claims"]["epsilon"]
    assert claimed <= 3.0
    for name, figures in dp["privacy"]["membership"].items():
        assert figures["auc"]["upper"] < overfit["privacy"]["membership"][name]["auc"]["lower"]
        assert figures["epsilon_lower_bound"]["value"] <= claimed, name


def test_artifacts_are_set_beside_the_real_records_model_and_a_dp_baseline(
    demo_results: dict[str, Any],
) -> None:
    overfit, supervised = demo_results["overfit"], demo_results["supervised"]
    dp = overfit["baselines"]["dp_sgd"]
    assert dp["claims"]["epsilon"] <= 3.0 + 1e-6
    # the DP baseline leaks less to LOSS than the leaky fixture, and its bound respects its claim
    leak = overfit["privacy"]["membership"]["loss"]["auc"]
    assert dp["membership"]["auc"]["upper"] < leak["lower"]
    assert dp["membership"]["epsilon_lower_bound"]["value"] <= dp["claims"]["epsilon"]
    # the demo's real-records model is the supervised fixture: same model, same LOSS point value
    real = overfit["baselines"]["real_records"]
    own = supervised["privacy"]["membership"]["loss"]["auc"]["value"]
    assert real["membership"]["auc"]["value"] == pytest.approx(own, abs=1e-12)
    assert real["utility"]["auroc"] == overfit["utility"]["baseline"]["metrics"]["auroc"]
    # a DP-SGD model of the same records is useful: its AUROC interval is well above chance
    assert dp["utility"]["auroc"]["lower"] > 0.65


def test_same_spec_and_seed_give_identical_json(demo_specs: dict[str, Path]) -> None:
    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit
    from auditor.result.document import dumps

    spec = load_spec(demo_specs["mimic"])
    assert dumps(run_audit(spec).result) == dumps(run_audit(spec).result)


def _member_values(members_csv: Path) -> set[str]:
    """Distinctive raw values of member records: ids and numbers with 5+ significant digits."""
    values = set()
    with members_csv.open() as handle:
        for row in csv.DictReader(handle):
            values.add(row["patient_id"])
            values.update(v for v in row.values() if len(re.sub(r"[^0-9]", "", v)) >= 5)
    return values


def test_report_and_result_hold_no_member_values(
    demo_specs: dict[str, Path], demo_results: dict[str, Any]
) -> None:
    from plotly.offline import get_plotlyjs

    from auditor.report import render_report
    from auditor.result.document import dumps

    values = _member_values(demo_specs["overfit"].parent.parent / "data" / "members.csv")
    assert len(values) > 2000  # the scan has something to look for
    result = demo_results["overfit"]
    html = render_report(result).replace(get_plotlyjs(), "")
    text = dumps(result)
    leaked = [v for v in values if v in html or v in text]
    assert leaked == []


HOSTILE = "<script>alert('x')</script>"


def test_report_escapes_hostile_strings_from_spec_and_data(
    demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    import pandas as pd

    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit
    from auditor.report import render_report

    root = tmp_path / "demo"
    shutil.copytree(demo_specs["population"].parent.parent, root)
    spec_path = root / "specs" / "population.toml"
    text = spec_path.read_text().replace('name = "population"', f'name = "{HOSTILE}"')
    text = text.replace('"entropy", "art_blackbox"', '"entropy"')
    spec_path.write_text(text)
    test_csv = root / "data" / "test.csv"
    frame = pd.read_csv(test_csv)
    frame.loc[frame["race"] == "other", "race"] = '"><img src=x onerror=alert(1)>'
    frame.to_csv(test_csv, index=False)

    html = render_report(run_audit(load_spec(spec_path)).result)
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
