"""Warnings on an attack's figures: findings that make them unreliable, in plain words.

Each attack's result entry gets `warnings` = {value: how many, messages: [...]}: the report
prints the messages in its summary, and a gate `privacy.<attack>.warnings = { max = 0 }`
fails the audit on any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIDELITY = (
    "the reference models do not behave like the shared model on records neither saw "
    "(p = {p:.2g} < {alpha:g}): this attack's figures are unreliable; check that the "
    "artifact's metadata states the recipe and settings it was trained with"
)
BELOW_CHANCE = (
    "this attack reads significantly below chance (AUC upper end {upper:.3f} < 0.5): its "
    "calibration does not fit the shared model, so its figures are unreliable"
)


def attack_warnings(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The warnings on one attack's figures (its result entry)."""
    messages = []
    fidelity = entry.get("reference_fidelity") or {}
    if fidelity.get("flagged"):
        messages.append(FIDELITY.format(p=fidelity["p_value"], alpha=fidelity["alpha"]))
    upper = (entry.get("auc") or {}).get("upper")
    if upper is not None and upper < 0.5:
        messages.append(BELOW_CHANCE.format(upper=upper))
    return {"value": len(messages), "messages": messages}
