"""Model inversion: reconstructions from a model that never saw the members are not closer
to members than to non-members; a model without gradients is reported as such."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_reconstructions_from_a_model_that_never_saw_members_do_not_link(
    demo_results: dict[str, Any],
) -> None:
    inversion = demo_results["population"]["privacy"]["inversion"]
    assert set(inversion) == {"miface", "gradient"}
    for method, figures in inversion.items():
        low, high = figures["null_band"]
        assert low <= figures["dcr_linkage"]["value"] <= high, method
        assert figures["p_value"] > 0.05, method


def test_forest_without_gradients_is_not_attempted(demo_results: dict[str, Any]) -> None:
    assert "no gradients" in demo_results["overfit"]["privacy"]["inversion"]["note"]
