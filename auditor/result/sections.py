"""The result document's sections as types: each key of the document is named here once,
and mypy checks every producer and reader typed with them (a misspelt key is a type error).

A document read from a file may be any JSON, so readers still check each value's type (the
report's `as_mapping`); these types say what a well-formed document holds. README "Result
schema" describes the same keys for people.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast


class Estimate(TypedDict, total=False):
    """Every figure: a point value and, where it has one, its interval (`lower`, `upper`);
    `note` says why a value or an interval is missing, `method` how the interval was made."""

    value: float | None
    lower: float | None
    upper: float | None
    resolvable: bool
    note: str | None
    method: str
    confidence: float
    delta: float
    # TPR of an attack compared with others: the lower end corrected for reading the
    # strongest of `selection` attacks after the fact (Bonferroni)
    selection_lower: float | None
    selection: int


class Curve(TypedDict):
    fpr: list[float]
    tpr: list[float]


class Band(TypedDict, total=False):
    """TPR with its interval at each FPR of a grid (`roc_band`)."""

    fpr: list[float]
    tpr: list[float]
    lower: list[float | None]
    upper: list[float | None]
    confidence: float
    method: str


class Warnings(TypedDict, total=False):
    value: int
    messages: list[str]


class Exposed(TypedDict, total=False):
    """The members an attack on released records picks out (`metrics.exposure`): counts
    only (its positions are not read by the report)."""

    fpr: float
    members: int
    flagged: int
    beyond_chance: dict[str, float]


class MembershipFigures(TypedDict, total=False):
    """One membership attack's figures (`privacy.membership.<attack>`)."""

    title: str
    description: str
    n_members: int
    n_non_members: int
    auc: Estimate
    advantage: Estimate
    tpr_at_fpr: dict[str, Estimate]  # by target FPR, "0.1", "0.01" and "0.001"
    epsilon_lower_bound: Estimate
    roc: Curve
    roc_band: Band
    by_group: dict[str, Any]
    warnings: Warnings
    reference_fidelity: dict[str, Any]
    exposed: Exposed


class GroupFairness(TypedDict):
    """One group's figures (`fairness.<attribute>.groups.<group>`)."""

    n: int | None
    recall: Estimate
    auroc: Estimate
    false_positive_rate: Estimate


class AttributeFairness(TypedDict, total=False):
    """One sensitive attribute's figures (`fairness.<attribute>`)."""

    groups: dict[str, GroupFairness]
    recall_gap: Estimate
    auroc_gap: Estimate
    equalized_odds_difference: Estimate


class ReferenceModels(TypedDict):
    k: int
    recipe: str
    modes: list[str]
    device: str


class Bootstrap(TypedDict):
    replicates: int
    utility_replicates: int
    confidence: float


class RunSection(TypedDict):
    """What makes the result reproducible (`run`)."""

    name: str
    seed: int
    spec_sha256: str
    auditor_version: str
    libraries: dict[str, str]
    reference_models: ReferenceModels
    bootstrap: Bootstrap


class SplitSection(TypedDict):
    file_name: str
    sha256: str
    rows: int


class DataSection(TypedDict, total=False):
    """The audit data by hash and size, never by value (`data`)."""

    label: str | list[str] | None
    structure: str
    description: str
    sensitive: list[str]
    splits: dict[str, SplitSection]


class GateResult(TypedDict):
    """One gate's outcome (`gates[i]`, `result.gates.GateOutcome.to_dict`)."""

    metric: str
    op: str
    threshold: float
    bound: str
    observed: float | None
    interval: list[float | None]
    passed: bool | None
    message: str


class Document(TypedDict, total=False):
    """A whole result. `artifact`, `privacy`, `utility` and `baselines` hold what each
    artifact kind contributes (`orchestration.context.Audited`)."""

    schema: str
    schema_version: int
    integrity: str
    signature: dict[str, Any]
    run: RunSection
    artifact: dict[str, Any]
    data: DataSection
    privacy: dict[str, Any]
    utility: dict[str, Any]
    baselines: dict[str, Any]
    fairness: dict[str, AttributeFairness]
    gates: list[GateResult]


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def estimate_of(figure: object, interval: object = None) -> Estimate:
    """A figure as an `Estimate`: one already in that shape is kept; a bare number (results
    written before every figure had the shape) gets the ends of its separate `interval`."""
    if isinstance(figure, dict):
        kept = {k: v for k, v in figure.items() if k in Estimate.__annotations__}
        return cast(Estimate, kept)  # the keys of an Estimate, as the producer wrote them
    ends = _mapping(interval)
    out = Estimate(value=_number(figure))
    if ends:
        out["lower"], out["upper"] = _number(ends.get("lower")), _number(ends.get("upper"))
        if isinstance(ends.get("method"), str):
            out["method"] = ends["method"]
    return out


def fairness_of(document: object) -> dict[str, AttributeFairness]:
    """The `fairness` section of a result read from anywhere, in the current shape: every
    group figure an `Estimate` (legacy results' numbers and `<figure>_interval` upgraded);
    values of the wrong JSON type read as missing."""
    out: dict[str, AttributeFairness] = {}
    for attribute, raw in _mapping(_mapping(document).get("fairness")).items():
        entry = _mapping(raw)
        groups: dict[str, GroupFairness] = {}
        for group, stats in _mapping(entry.get("groups")).items():
            figures = _mapping(stats)
            n = figures.get("n")
            groups[str(group)] = GroupFairness(
                n=n if isinstance(n, int) and not isinstance(n, bool) else None,
                recall=estimate_of(figures.get("recall"), figures.get("recall_interval")),
                auroc=estimate_of(figures.get("auroc"), figures.get("auroc_interval")),
                false_positive_rate=estimate_of(figures.get("false_positive_rate")),
            )
        attribute_figures = AttributeFairness(groups=groups)
        for gap in ("recall_gap", "auroc_gap", "equalized_odds_difference"):
            if gap in entry:
                attribute_figures[gap] = estimate_of(entry[gap])
        out[str(attribute)] = attribute_figures
    return out


def _floats(value: object) -> list[float]:
    items = value if isinstance(value, list) else []
    return [float(v) for v in items if _number(v) is not None]


def _optional_floats(value: object) -> list[float | None]:
    return [_number(v) for v in value] if isinstance(value, list) else []


def membership_of(document: object) -> dict[str, MembershipFigures]:
    """The membership attacks of a result read from anywhere (`privacy.membership`), each
    with the keys the report shows, values of the wrong JSON type read as missing (a curve
    whose two lists differ in length reads as empty)."""
    attacks = _mapping(_mapping(_mapping(document).get("privacy")).get("membership"))
    out: dict[str, MembershipFigures] = {}
    for name, raw in attacks.items():
        entry = _mapping(raw)
        figures = MembershipFigures()
        for text in ("title", "description"):
            if isinstance(entry.get(text), str):
                figures[text] = entry[text]
        for count in ("n_members", "n_non_members"):
            value = entry.get(count)
            if isinstance(value, int) and not isinstance(value, bool):
                figures[count] = value
        for figure in ("auc", "advantage", "epsilon_lower_bound"):
            if figure in entry:
                figures[figure] = estimate_of(entry[figure])
        tprs = _mapping(entry.get("tpr_at_fpr"))
        figures["tpr_at_fpr"] = {str(k): estimate_of(v) for k, v in tprs.items()}
        roc = _mapping(entry.get("roc"))
        fpr, tpr = _floats(roc.get("fpr")), _floats(roc.get("tpr"))
        figures["roc"] = Curve(fpr=fpr, tpr=tpr) if len(fpr) == len(tpr) else Curve(fpr=[], tpr=[])
        band = _mapping(entry.get("roc_band"))
        figures["roc_band"] = Band(
            fpr=_floats(band.get("fpr")),
            tpr=_floats(band.get("tpr")),
            lower=_optional_floats(band.get("lower")),
            upper=_optional_floats(band.get("upper")),
        )
        confidence = _number(band.get("confidence"))
        if confidence is not None:
            figures["roc_band"]["confidence"] = confidence
        if isinstance(band.get("method"), str):
            figures["roc_band"]["method"] = band["method"]
        warnings = _mapping(entry.get("warnings"))
        flagged = warnings.get("value")
        messages = warnings.get("messages")
        figures["warnings"] = Warnings(
            value=flagged if isinstance(flagged, int) and not isinstance(flagged, bool) else 0,
            messages=[str(m) for m in messages] if isinstance(messages, list) else [],
        )
        exposed = _mapping(entry.get("exposed"))
        counts = {k: exposed.get(k) for k in ("members", "flagged")}
        at = _number(exposed.get("fpr"))
        if at is not None and all(isinstance(v, int) for v in counts.values()):
            beyond = _mapping(exposed.get("beyond_chance"))
            figures["exposed"] = Exposed(
                fpr=at,
                members=int(counts["members"] or 0),
                flagged=int(counts["flagged"] or 0),
                beyond_chance={
                    k: v for k in ("value", "lower") if (v := _number(beyond.get(k))) is not None
                },
            )
        out[str(name)] = figures
    return out
