"""The dp_coding fixtures on small splits: four multi-label coders audited, and the table
of micro-F1 and recall gap by sex that `auditor demo --full` writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.config.spec import load_spec
from auditor.demo.coding import EPSILONS, build_dp_coding, coding_tradeoffs, fixture_names
from auditor.orchestration.run import run_audit

pytestmark = pytest.mark.slow


def test_the_coding_table_sets_each_epsilon_beside_the_non_private_coder(tmp_path: Path) -> None:
    specs = build_dp_coding(
        tmp_path,
        bootstrap=100,
        attacks=("loss",),
        sizes={"members": 800, "non_members": 400, "test": 800},
        utility_bootstrap=50,
    )
    assert list(specs) == fixture_names()
    results = {name: run_audit(load_spec(spec)).result for name, spec in specs.items()}
    rows = coding_tradeoffs(results)
    assert [r["fixture"] for r in rows] == fixture_names()
    assert rows[0]["epsilon"] is None
    for row, epsilon in zip(rows[1:], EPSILONS, strict=True):
        assert 0 < row["epsilon"] <= epsilon  # Opacus's accountant, never above the target
    for row in rows:
        for figure in (row["f1_micro"], row["recall_gap_sex"]):
            assert figure["lower"] <= figure["value"] <= figure["upper"], row
    # DP-SGD at epsilon 1 costs utility: its micro-F1 interval lies below the non-private one
    assert rows[1]["f1_micro"]["upper"] < rows[0]["f1_micro"]["lower"]
