"""ONNX models (onnxruntime, CPU): a matrix of encoded rows, or the raw columns as one
input per column (as skl2onnx exports a Pipeline) or as one float32 matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.artifacts.formats import (
    LoadOptions,
    LogitsFn,
    ModelColumns,
    Queryable,
    TableFn,
)
from auditor.artifacts.formats.columns import columns_by_width, named_columns
from auditor.artifacts.formats.graph import GraphArchitecture, architecture_of, onnx_layers
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import log_probabilities


def session(path: Path) -> Any:
    """An onnxruntime session of the model at `path`, on the CPU (the one place one is made)."""
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def check(path: Path, options: LoadOptions) -> None:
    """Open the graph (onnxruntime runs no code of the file's own)."""
    session(path)


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    if meta.raw_columns:
        return Queryable(table=table_logits(path, meta.raw_columns, meta.output))
    return Queryable(logits=logits(path, meta.output))


def logits(path: Path, output: str) -> LogitsFn:
    """The logits of an ONNX model; log-probabilities when its `output` is probabilities."""
    run = session(path)
    name = run.get_inputs()[0].name

    def query(x: np.ndarray) -> np.ndarray:
        out = np.asarray(run.run(None, {name: x.astype(np.float32)})[0], dtype=np.float64)
        return log_probabilities(out) if output == "probabilities" else out

    return query


def table_logits(path: Path, columns: tuple[str, ...], output: str) -> TableFn:
    """An ONNX model reading raw columns: one input per column, in order (each fed its
    column as a (n, 1) tensor of the input's type), or a single input taking the columns as
    a float32 matrix. Probability outputs (a tensor, or skl2onnx's list of {class:
    probability}) become log-probabilities."""
    run = session(path)
    inputs = {i.name: i.type for i in run.get_inputs()}
    outputs = [o.name for o in run.get_outputs()]
    wanted = next((o for o in outputs if "probab" in o.lower()), outputs[-1])
    names = list(columns)

    def feed(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        if len(inputs) == 1 and len(names) > 1:
            (name,) = inputs
            return {name: frame[names].to_numpy(dtype=np.float32)}
        # one input per column, in the order of `columns` (exporters rename odd names)
        return {
            name: _column(frame[column], kind)
            for (name, kind), column in zip(inputs.items(), names, strict=True)
        }

    def query(frame: pd.DataFrame) -> np.ndarray:
        out = run.run([wanted], feed(frame))[0]
        if isinstance(out, list):  # ZipMap: one {class: probability} per row
            keys = sorted(out[0])
            out = [[row[k] for k in keys] for row in out]
        out = np.asarray(out, dtype=np.float64)
        probabilities = output == "probabilities" or "probab" in wanted.lower()
        return log_probabilities(out) if probabilities else out

    return query


def _column(values: pd.Series, onnx_type: str) -> np.ndarray:
    """One column as the (n, 1) tensor an ONNX input of `onnx_type` takes."""
    if "string" in onnx_type:
        return values.astype(str).to_numpy(dtype=object).reshape(-1, 1)
    if "int64" in onnx_type:
        return values.to_numpy(dtype=np.int64).reshape(-1, 1)
    if "double" in onnx_type:
        return values.to_numpy(dtype=np.float64).reshape(-1, 1)
    return values.to_numpy(dtype=np.float32).reshape(-1, 1)


def columns(
    path: Path, options: LoadOptions, features: list[str], numeric: list[str]
) -> ModelColumns:
    """Named inputs are columns; a single unnamed input takes the numeric columns."""
    run = session(path)
    inputs = run.get_inputs()
    outputs = [o.name for o in run.get_outputs()]
    output = "probabilities" if any("prob" in o.lower() for o in outputs) else "logits"
    if len(inputs) > 1 or inputs[0].name in features:
        named = named_columns(path, [i.name for i in inputs], features)
        return ModelColumns(named, output, "ONNX", "its inputs")
    width = inputs[0].shape[-1] if isinstance(inputs[0].shape[-1], int) else None
    by_width = columns_by_width(path, width, numeric)
    return ModelColumns(by_width, output, "ONNX graph", "its input width")


def architecture(path: Path, options: LoadOptions) -> GraphArchitecture:
    """The architecture the graph's nodes show (`formats.graph`)."""
    return architecture_of(onnx_layers(path))
