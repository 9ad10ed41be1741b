"""Linkability and inference risks of a released dataset, measured the way anonymeter
measures them (Giomi et al., PETS 2023): an attack's success on the records the release
was made from (members) against its success on a control set that played no part
(non-members), and against a naive baseline, with exact binomial intervals.

Built on scikit-learn's NearestNeighbors and scipy's binomial intervals instead of
anonymeter itself, which pins numpy below 1.27 and would hold the whole project back.
risk = (success on members - success on control) / (1 - success on control); its interval
combines the ends of the two rates' intervals (conservative). Singling out uses
anonymeter's univariate mode: one-attribute predicates that isolate one released sample.

Per record (`per_record`): which members the attack succeeded on, as positions (0-based
rows of the members' table, given by the caller) and as a count beyond what the control
rate explains, so that a leak confined to some records is not averaged into the risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from auditor.core.encoding import FeatureEncoding
from auditor.core.estimates import Estimate, proportion


def _risk(main: dict[str, Any], control: dict[str, Any]) -> dict[str, Any]:
    def r(m: float, c: float) -> float:
        return (m - c) / (1.0 - c) if c < 1.0 else 0.0

    return {
        "value": r(main["value"], control["value"]),
        "lower": r(main["lower"], control["upper"]),
        "upper": r(main["upper"], control["lower"]),
        "resolvable": True,
        "note": None,
    }


def _per_record(
    hits: np.ndarray, control_rate: float | None, positions: np.ndarray | None
) -> dict[str, Any]:
    """The members an attack succeeded on: count, count beyond the control rate, and
    their positions (rows of the members' table, when the caller gave them)."""
    where = np.flatnonzero(hits)
    out: dict[str, Any] = {
        "attacked": len(hits),
        "succeeded": len(where),
        "beyond_control": None
        if control_rate is None
        else float(len(where) - control_rate * len(hits)),
    }
    if positions is not None:
        out["positions"] = [int(p) for p in np.asarray(positions)[where]]
    return out


def _blocks(encoding: FeatureEncoding) -> dict[str, np.ndarray]:
    """Column indices of each categorical feature's one-hot block."""
    out, start = {}, len(encoding.numeric)
    for feature in encoding.categorical:
        out[feature.name] = np.arange(start, start + len(feature.categories))
        start += len(feature.categories)
    return out


def inference_risk(
    released: np.ndarray,
    members: np.ndarray,
    control: np.ndarray,
    encoding: FeatureEncoding,
    secret: str,
    *,
    rng: np.random.Generator,
    confidence: float,
    positions: np.ndarray | None = None,
) -> dict[str, Any]:
    """Guess a categorical `secret` from the released sample nearest on all other columns;
    `positions`: the members' rows in their table, for the per-record outcomes."""
    block = _blocks(encoding)[secret]
    aux = np.setdiff1d(np.arange(released.shape[1]), block)
    if len(aux) == 0:
        note = f"the release has no column besides {secret}: nothing to infer it from"
        empty = proportion(0, 0, confidence)
        return {"attack": empty, "control": empty, "baseline": empty, "risk": _unresolved(note)}
    index = NearestNeighbors(n_neighbors=1).fit(released[:, aux])

    def success(targets: np.ndarray) -> np.ndarray:
        _, nn = index.kneighbors(targets[:, aux])
        guess = released[nn[:, 0]][:, block].argmax(axis=1)
        return np.asarray(guess == targets[:, block].argmax(axis=1))

    random_rows = released[rng.integers(0, len(released), len(members))]
    naive = int((random_rows[:, block].argmax(1) == members[:, block].argmax(1)).sum())
    hits = success(members)
    main = proportion(int(hits.sum()), len(members), confidence)
    ctrl = proportion(int(success(control).sum()), len(control), confidence)
    return {
        "attack": main,
        "control": ctrl,
        "baseline": proportion(naive, len(members), confidence),
        "risk": _risk(main, ctrl),
        "per_record": _per_record(hits, ctrl["value"], positions),
    }


def _unresolved(note: str) -> dict[str, Any]:
    return Estimate(None, None, None, False, note).to_dict()


def _halves(encoding: FeatureEncoding) -> tuple[np.ndarray, np.ndarray] | None:
    """The two disjoint column sets an attacker knows of a record: numeric against
    categorical when the release has both, else its features split in half (one-hot blocks
    kept whole); None with fewer than two features."""
    n_numeric = len(encoding.numeric)
    if n_numeric and encoding.categorical:
        return np.arange(n_numeric), np.arange(n_numeric, encoding.n_features)
    spans = [np.array([j]) for j in range(n_numeric)] + list(_blocks(encoding).values())
    if len(spans) < 2:
        return None
    half = len(spans) // 2
    return np.concatenate(spans[:half]), np.concatenate(spans[half:])


def linkability_risk(
    released: np.ndarray,
    members: np.ndarray,
    control: np.ndarray,
    encoding: FeatureEncoding,
    *,
    confidence: float,
    neighbours: int = 1,
    positions: np.ndarray | None = None,
) -> dict[str, Any]:
    """Link one half of a record's columns to the other through the release (`_halves`):
    success when the released samples nearest on each half coincide; `positions`: the
    members' rows in their table, for the per-record outcomes."""
    halves = _halves(encoding)
    if halves is None:
        note = "the release has one feature: there are no two halves to link"
        empty = proportion(0, 0, confidence)
        return {
            "attack": empty,
            "control": empty,
            "baseline": {"value": None},
            "risk": _unresolved(note),
        }
    a, b = halves
    both = bool(encoding.numeric and encoding.categorical)
    split = "numeric half to categorical half" if both else "first half of the features to the rest"
    k = min(neighbours, len(released))
    on_a = NearestNeighbors(n_neighbors=k).fit(released[:, a])
    on_b = NearestNeighbors(n_neighbors=k).fit(released[:, b])

    def success(targets: np.ndarray) -> np.ndarray:
        _, ia = on_a.kneighbors(targets[:, a])
        _, ib = on_b.kneighbors(targets[:, b])
        return np.array([bool(set(x) & set(y)) for x, y in zip(ia, ib, strict=True)])

    hits = success(members)
    main = proportion(int(hits.sum()), len(members), confidence)
    ctrl = proportion(int(success(control).sum()), len(control), confidence)
    return {
        "attack": main,
        "control": ctrl,
        "baseline": {"value": min(1.0, k * k / len(released))},
        "risk": _risk(main, ctrl),
        "split": split,
        "per_record": _per_record(hits, ctrl["value"], positions),
    }


def _predicates(released: np.ndarray, encoding: FeatureEncoding) -> list[tuple[int, str, float]]:
    """Univariate predicates (column, op, value) that match exactly one released sample:
    the smallest / largest value of a numeric column, or a category held by one sample."""
    out: list[tuple[int, str, float]] = []
    for j in range(len(encoding.numeric)):
        col = released[:, j]
        for op, value in (("<=", col.min()), (">=", col.max())):
            if _matches(col, op, float(value)).sum() == 1:
                out.append((j, op, float(value)))
    for block in _blocks(encoding).values():
        chosen = released[:, block].argmax(axis=1)
        for k, count in zip(*np.unique(chosen, return_counts=True), strict=True):
            if count == 1:
                out.append((int(block[k]), "cat", float(block[0])))
    return out


def _matches(values: np.ndarray, op: str, value: float) -> np.ndarray:
    return values <= value if op == "<=" else values >= value


def _singled_out(records: np.ndarray, predicate: tuple[int, str, float], blocks: dict) -> int:
    """The row `predicate` isolates among `records` (the only one it matches), else -1."""
    column, op, value = predicate
    if op == "cat":
        block = next(b for b in blocks.values() if b[0] == int(value))
        hit = block[records[:, block].argmax(axis=1)] == column
    else:
        hit = _matches(records[:, column], op, value)
    rows = np.flatnonzero(hit)
    return int(rows[0]) if len(rows) == 1 else -1


def singling_out_risk(
    released: np.ndarray,
    members: np.ndarray,
    control: np.ndarray,
    encoding: FeatureEncoding,
    *,
    confidence: float,
    positions: np.ndarray | None = None,
) -> dict[str, Any]:
    """Share of one-attribute predicates isolating a released sample that also isolate
    exactly one member, against the same share on an equally large control set; per
    record, the members singled out (`positions`: the members' rows in their table)."""
    predicates = _predicates(released, encoding)
    blocks = _blocks(encoding)
    n = min(len(members), len(control))
    members, control = members[:n], control[:n]
    isolated = np.array([_singled_out(members, p, blocks) for p in predicates], dtype=np.int64)
    others = np.array([_singled_out(control, p, blocks) for p in predicates], dtype=np.int64)
    main = proportion(int((isolated >= 0).sum()), len(predicates), confidence)
    ctrl = proportion(int((others >= 0).sum()), len(predicates), confidence)
    if main["value"] is None or ctrl["value"] is None:
        note = "no predicate isolates a single released sample"
        return {"attack": main, "control": ctrl, "risk": _unresolved(note), "predicates": 0}
    singled = np.zeros(n, dtype=bool)
    singled[isolated[isolated >= 0]] = True
    record = _per_record(singled, None, None if positions is None else positions[:n])
    # beyond control: members singled out, less control records singled out by the same
    # predicates (an equally large set)
    record["beyond_control"] = float(singled.sum() - len(np.unique(others[others >= 0])))
    return {
        "attack": main,
        "control": ctrl,
        "risk": _risk(main, ctrl),
        "predicates": len(predicates),
        "per_record": record,
    }
