"""Safetensors weights of a built-in architecture (or one the spec names as
`package.module:function`), with the metadata in the file's header. Checked without torch:
the stored shapes must fit the declared architecture before anything is built."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.artifacts.builtin import model_params
from auditor.artifacts.formats import LoadOptions, Queryable
from auditor.artifacts.inspect import check_width, no_constant, read_sidecar
from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.artifacts.query import table_logits, torch_logits
from auditor.errors import fail

_FIX = (
    "name the architecture the weights were trained with ([artifact] architecture) "
    "and check that the metadata's feature encoding matches the model's input width"
)


def header_metadata(path: Path, header: dict[str, str]) -> ArtifactMetadata:
    """The metadata in a safetensors header (key `auditor`), else in the sidecar."""
    if "auditor" not in header:
        return read_sidecar(path)
    try:
        data = json.loads(header["auditor"], parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise fail(
            str(path),
            "metadata",
            "header key 'auditor' is not JSON (NaN and Infinity are not JSON numbers)",
            "rewrite the metadata with ArtifactMetadata.to_dict",
        ) from exc
    return ArtifactMetadata.from_dict(data, str(path))


def expected_shapes(meta: ArtifactMetadata) -> dict[str, tuple[int, ...]] | None:
    """Parameter shapes of the built-in MLP / logistic model the metadata declares; None
    for any other architecture (its shapes are its own code's business)."""
    if meta.architecture not in ("mlp", "logistic"):
        return None
    hidden = model_params("mlp", meta.recipe_params)["hidden"] if meta.architecture == "mlp" else []
    widths = [meta.n_features, *hidden, meta.n_classes]
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(len(widths) - 1):
        shapes[f"net.{2 * i}.weight"] = (widths[i + 1], widths[i])
        shapes[f"net.{2 * i}.bias"] = (widths[i + 1],)
    return shapes


def shape_problem(meta: ArtifactMetadata, stored: dict[str, tuple[int, ...]], where: str) -> None:
    """AuditInputError when stored weights do not fit the declared built-in architecture."""
    expected = expected_shapes(meta)
    if expected is None or expected == stored:
        return
    names = sorted(set(expected) | set(stored))
    first = next(n for n in names if expected.get(n) != stored.get(n))
    detail = f"{first}: stored {stored.get(first, 'none')}, expected {expected.get(first, 'none')}"
    raise fail(
        where,
        "architecture",
        f"weights do not fit architecture {meta.architecture!r} with {meta.n_features} input "
        f"features ({detail})",
        _FIX,
    )


def metadata(path: Path, options: LoadOptions) -> ArtifactMetadata:
    """The header's metadata (else the sidecar's), settled by the user's architecture,
    after checking that the stored weights fit it (read without torch)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        meta = header_metadata(path, handle.metadata() or {})
        stored = {k: tuple(handle.get_slice(k).get_shape()) for k in handle.keys()}  # noqa: SIM118
    meta = trusted_metadata(meta, options.architecture, str(path))
    check_width(meta, str(path))
    shape_problem(meta, stored, str(path))
    return meta


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    """The declared architecture built and the weights loaded into it."""
    from safetensors.torch import load_file

    from auditor.artifacts.architectures import build_model

    try:
        params = model_params(meta.architecture, meta.recipe_params)
        module = build_model(
            meta.architecture, n_features=meta.n_features, n_classes=meta.n_classes, params=params
        )
        module.load_state_dict(load_file(str(path)))
    except (ValueError, RuntimeError, TypeError) as exc:
        raise fail(
            str(path),
            "architecture",
            f"weights do not fit architecture {meta.architecture!r} with "
            f"{meta.n_features} input features: {_condense(exc)}",
            _FIX,
        ) from exc
    module.eval()
    if meta.raw_columns:
        return Queryable(table=table_logits(module, meta.raw_columns), module=module)
    return Queryable(logits=torch_logits(module), module=module)


def _condense(exc: Exception) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines()[:3])[:400]
