"""Number and label formatting for the HTML report.

Every function here returns a plain ``str``; escaping is left to the template's autoescape.
A missing number (``None``) is never shown as ``0``: it becomes ``"n/a"`` or a caller-given note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

NA = "n/a"

_METRIC_LABELS = {
    "accuracy": "Accuracy",
    "auroc": "AUROC",
    "auprc": "AUPRC",
    "f1_micro": "F1 (micro)",
    "f1_macro": "F1 (macro)",
    "cohen_kappa": "Cohen's kappa",
    "brier": "Brier score",
    "ece": "Expected calibration error",
    "auroc_macro": "AUROC (macro)",
    "balanced_accuracy": "Balanced accuracy (macro recall)",
    "log_loss": "Log loss",
    "recall_micro": "Recall (micro)",
    "subset_accuracy": "Subset accuracy (every label right)",
    "hamming_loss": "Hamming loss",
    "recall": "Recall",
    "false_positive_rate": "False positive rate",
    "recall_gap": "Recall gap",
    "auroc_gap": "AUROC gap",
    "equalized_odds_difference": "Equalized-odds difference",
}


def is_number(x: Any) -> TypeGuard[int | float]:
    """Return True for a finite int or float (bools excluded)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    return math.isfinite(x)


def fmt_num(x: Any, missing: str = NA) -> str:
    """Format one number: ints as-is, floats with 3 decimals.

    A non-zero float that would round to ``0.000`` is shown with 3 significant digits instead
    (``1e-05``), so a small value is never displayed as zero. ``None`` becomes ``missing``.
    """
    if x is None:
        return missing
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x != 0 and abs(x) < 0.0005:
            return f"{x:.3g}"
        return f"{x:.3f}"
    return str(x)


def fmt_signed(x: Any, missing: str = NA) -> str:
    """Format a difference with an explicit sign (``+0.020``); ``None`` becomes ``missing``."""
    if not is_number(x):
        return fmt_num(x, missing)
    if x != 0 and abs(x) < 0.0005:
        return f"{x:+.3g}"
    return f"{x:+.3f}"


def fmt_general(x: Any, missing: str = NA) -> str:
    """Format a declared parameter (epsilon, delta, seed) compactly: ``3``, ``1e-05``, ``0.5``."""
    if x is None:
        return missing
    if isinstance(x, bool) or not isinstance(x, int | float):
        return fmt_num(x, missing)
    if isinstance(x, int):
        return str(x)
    return f"{x:.6g}"


def fmt_interval(estimate: Any, missing: str = NA) -> str:
    """Format an estimate dict ``{"value", "lower", "upper"}`` as ``0.812 [0.790, 0.833]``.

    A bare number is formatted alone. If ``value`` is ``None`` the dict's ``note`` (when given)
    or ``missing`` is returned; the interval is shown only when both ends are present.
    """
    if not isinstance(estimate, Mapping):
        return fmt_num(estimate, missing)
    value = estimate.get("value")
    if value is None:
        note = estimate.get("note")
        return str(note) if note else missing
    text = fmt_num(value, missing)
    lower, upper = estimate.get("lower"), estimate.get("upper")
    if lower is not None and upper is not None:
        text += f" [{fmt_num(lower)}, {fmt_num(upper)}]"
    return text


def fmt_bounds(lower: Any, upper: Any, missing: str = "none") -> str:
    """Format an interval alone as ``[0.790, 0.833]``; ``missing`` when either end is absent."""
    if lower is None or upper is None:
        return missing
    return f"[{fmt_num(lower)}, {fmt_num(upper)}]"


def fmt_percent(fraction: Any, missing: str = NA) -> str:
    """Format a fraction as a percentage without trailing zeros: ``0.001`` -> ``0.1%``."""
    if not is_number(fraction):
        return fmt_num(fraction, missing)
    return f"{fraction * 100:.6g}%"


def fpr_label(key: str) -> str:
    """Label a ``tpr_at_fpr`` key (``"0.01"``) as ``"1%"``; a non-numeric key is kept as is."""
    try:
        return fmt_percent(float(key))
    except ValueError:
        return str(key)


def fpr_sort_key(key: str) -> tuple[int, float, str]:
    """Sort ``tpr_at_fpr`` keys by FPR, largest first; non-numeric keys last."""
    try:
        return (0, -float(key), str(key))
    except ValueError:
        return (1, 0.0, str(key))


def metric_label(name: str) -> str:
    """Human-readable label for a known metric key; unknown keys are returned unchanged."""
    return _METRIC_LABELS.get(name, str(name))


def slug(text: str, limit: int = 40) -> str:
    """Lower-case ASCII slug for element ids (``"overfit <demo>"`` -> ``"overfit-demo"``)."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return cleaned[:limit].rstrip("-") or "item"


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty dict (absent sections render as empty)."""
    return value if isinstance(value, Mapping) else {}


def display(value: Any) -> str:
    """Any scalar from the result as display text; ``None`` becomes ``n/a``."""
    return NA if value is None else fmt_general(value)


def signature_label(result: Mapping[str, Any]) -> str:
    """Who signed the result: "Ed25519 key <fingerprint>", or "unsigned". A signature that
    does not verify never reaches a report (the result is refused when it is loaded)."""
    signature = result.get("signature")
    if not isinstance(signature, Mapping):
        return "unsigned"
    algorithm, key = display(signature.get("algorithm")), display(signature.get("fingerprint"))
    return f"signed with {algorithm} key {key}"


def as_list(value: Any) -> list[Any]:
    """`value` if it is a list (or tuple), else an empty list: a report never assumes the
    shape of a result it did not write."""
    return list(value) if isinstance(value, list | tuple) else []
