"""Linkability and inference risks of a released dataset, measured the way anonymeter
measures them (Giomi et al., PETS 2023): an attack's success on the records the release
was made from (members) against its success on a control set that played no part
(non-members), and against a naive baseline, with exact binomial intervals.

Built on scikit-learn's NearestNeighbors and scipy's binomial intervals instead of
anonymeter itself, which pins numpy below 1.27 and would hold the whole project back.
risk = (success on members - success on control) / (1 - success on control); its interval
combines the ends of the two rates' intervals (conservative). Singling out uses
anonymeter's univariate mode: one-attribute predicates that isolate one released sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from auditor.core.encoding import FeatureEncoding
from auditor.core.estimates import proportion


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
) -> dict[str, Any]:
    """Guess a categorical `secret` from the released sample nearest on all other columns."""
    block = _blocks(encoding)[secret]
    aux = np.setdiff1d(np.arange(released.shape[1]), block)
    index = NearestNeighbors(n_neighbors=1).fit(released[:, aux])

    def success(targets: np.ndarray) -> int:
        _, nn = index.kneighbors(targets[:, aux])
        guess = released[nn[:, 0]][:, block].argmax(axis=1)
        return int((guess == targets[:, block].argmax(axis=1)).sum())

    random_rows = released[rng.integers(0, len(released), len(members))]
    naive = int((random_rows[:, block].argmax(1) == members[:, block].argmax(1)).sum())
    main = proportion(success(members), len(members), confidence)
    ctrl = proportion(success(control), len(control), confidence)
    return {
        "attack": main,
        "control": ctrl,
        "baseline": proportion(naive, len(members), confidence),
        "risk": _risk(main, ctrl),
    }


def linkability_risk(
    released: np.ndarray,
    members: np.ndarray,
    control: np.ndarray,
    encoding: FeatureEncoding,
    *,
    confidence: float,
    neighbours: int = 1,
) -> dict[str, Any]:
    """Link a record's numeric half to its categorical half through the release: success
    when the released samples nearest on each half coincide."""
    a = np.arange(len(encoding.numeric))
    b = np.arange(len(encoding.numeric), released.shape[1])
    k = min(neighbours, len(released))
    on_a = NearestNeighbors(n_neighbors=k).fit(released[:, a])
    on_b = NearestNeighbors(n_neighbors=k).fit(released[:, b])

    def success(targets: np.ndarray) -> int:
        _, ia = on_a.kneighbors(targets[:, a])
        _, ib = on_b.kneighbors(targets[:, b])
        return int(sum(bool(set(x) & set(y)) for x, y in zip(ia, ib, strict=True)))

    main = proportion(success(members), len(members), confidence)
    ctrl = proportion(success(control), len(control), confidence)
    return {
        "attack": main,
        "control": ctrl,
        "baseline": {"value": min(1.0, k * k / len(released))},
        "risk": _risk(main, ctrl),
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


def _singles_out(records: np.ndarray, predicate: tuple[int, str, float], blocks: dict) -> bool:
    column, op, value = predicate
    if op == "cat":
        block = next(b for b in blocks.values() if b[0] == int(value))
        hit = block[records[:, block].argmax(axis=1)] == column
    else:
        hit = _matches(records[:, column], op, value)
    return int(hit.sum()) == 1


def singling_out_risk(
    released: np.ndarray,
    members: np.ndarray,
    control: np.ndarray,
    encoding: FeatureEncoding,
    *,
    confidence: float,
) -> dict[str, Any]:
    """Share of one-attribute predicates isolating a released sample that also isolate
    exactly one member, against the same share on an equally large control set."""
    predicates = _predicates(released, encoding)
    blocks = _blocks(encoding)
    n = min(len(members), len(control))
    members, control = members[:n], control[:n]
    main = proportion(
        sum(_singles_out(members, p, blocks) for p in predicates), len(predicates), confidence
    )
    ctrl = proportion(
        sum(_singles_out(control, p, blocks) for p in predicates), len(predicates), confidence
    )
    if main["value"] is None or ctrl["value"] is None:
        note = "no predicate isolates a single released sample"
        empty = {"value": None, "lower": None, "upper": None, "resolvable": False, "note": note}
        return {"attack": main, "control": ctrl, "risk": empty, "predicates": 0}
    return {
        "attack": main,
        "control": ctrl,
        "risk": _risk(main, ctrl),
        "predicates": len(predicates),
    }
