"""Per-record risk: which members an attack picks out at a stated false-positive rate, as
counts and positions, so that a leak confined to some records is not averaged away in an
AUC (a near-copy of a fifth of the members moves the AUC by a tenth, and flags that
fifth).

Positions are row numbers of the members' table (0-based, in the table's order, most
exposed first), never identities or values: the hospital can look its own records up, and
nothing in the result names a patient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.core.estimates import proportion

EXPOSURE_FPR = 0.01  # the stated false-positive rate at which members are counted


def exposed_records(
    scores: np.ndarray, is_member: np.ndarray, *, fpr: float, confidence: float
) -> dict[str, Any]:
    """The members whose score exceeds the threshold that flags at most `fpr` of the
    non-members: their number, the share of members, how many exceed what chance flags
    (with a lower end at `confidence`, Bonferroni over both rates), and their positions."""
    scores = np.asarray(scores, dtype=np.float64)
    is_member = np.asarray(is_member, dtype=bool)
    members, non_members = scores[is_member], scores[~is_member]
    if len(members) == 0 or len(non_members) == 0:
        raise ValueError("exposure needs members and non-members")
    threshold = float(np.quantile(non_members, 1.0 - fpr, method="higher"))
    false_alarms = int((non_members > threshold).sum())
    flagged = np.flatnonzero(members > threshold)
    n, k = len(members), len(flagged)
    both = 1.0 - (1.0 - confidence) / 2  # each rate's side of the difference
    member_rate = proportion(k, n, both)
    alarm_rate = proportion(false_alarms, len(non_members), both)
    beyond = k - n * false_alarms / len(non_members)
    lower = n * max(0.0, member_rate["lower"] - alarm_rate["upper"])
    order = flagged[np.argsort(-members[flagged], kind="stable")]
    return {
        "fpr": fpr,
        "realised_fpr": false_alarms / len(non_members),
        "members": n,
        "flagged": k,
        "flagged_share": proportion(k, n, confidence),
        "beyond_chance": {"value": float(beyond), "lower": float(lower), "confidence": confidence},
        "positions": [int(i) for i in order],
        "positions_of": "rows of the members' table, 0-based, most exposed first",
    }
