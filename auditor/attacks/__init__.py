"""Attacks. Each returns per-record scores (larger = more likely a member); the metrics
module turns every attack's scores into the same figures."""

from auditor.attacks.context import AttackContext, AttackDef
from auditor.attacks.membership import (
    art_blackbox,
    base_reference,
    label_only,
    lira,
    loss,
    qmia,
    rmia,
    thresholds,
)

ATTACKS: dict[str, AttackDef] = {
    a.name: a
    for a in (
        loss.ATTACK,
        thresholds.CONFIDENCE,
        thresholds.ENTROPY,
        art_blackbox.ATTACK,
        label_only.ATTACK,
        *lira.ATTACKS,
        rmia.ATTACK,
        qmia.ATTACK,
        base_reference.ATTACK,
    )
}
DEFAULT_ATTACKS = ("loss", "confidence", "entropy", "art_blackbox")

__all__ = ["ATTACKS", "DEFAULT_ATTACKS", "AttackContext", "AttackDef"]
