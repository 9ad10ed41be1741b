"""How `auditor init` matches a model's inputs to the data's columns (shared by the
formats' `columns` functions)."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.errors import fail


def named_columns(path: Path, inputs: list[str], features: list[str]) -> list[str]:
    """The column behind each named input: the same name, or the name as exporters such as
    skl2onnx rewrite it (every character other than a letter, digit or _ as _)."""
    rewritten = {re.sub(r"\W", "_", c): c for c in features}
    columns = [i if i in features else rewritten.get(i) for i in inputs]
    unknown = [i for i, c in zip(inputs, columns, strict=True) if c is None]
    if unknown:
        raise fail(
            str(path),
            "raw_columns",
            f"{len(unknown)} model inputs match no data column (first: {unknown[0][:60]!r})",
            "give data files whose columns are the model's inputs",
        )
    return [c for c in columns if c is not None]


def columns_by_width(path: Path, width: int | None, numeric: list[str]) -> list[str]:
    """The data's numeric feature columns, when the model takes that many unnamed inputs."""
    if width is not None and width == len(numeric):
        return numeric
    raise fail(
        str(path),
        "raw_columns",
        f"the model takes {width} unnamed inputs; the data has {len(numeric)} numeric "
        "feature columns",
        "export the model with its feature names (fit it on a DataFrame), or drop the "
        "columns it does not read from the data files",
    )
