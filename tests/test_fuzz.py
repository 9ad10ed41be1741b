"""Property tests: whatever a careless or hostile user hands the parsers, each returns a
valid object or raises the tool's own input error (exit 2), never another exception.

Examples per parser: FUZZ_EXAMPLES (default 300, sized for CI's budget). A nightly run
sets FUZZ_EXAMPLES=10000:  FUZZ_EXAMPLES=10000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.artifacts.datasets import load_dataset
from auditor.artifacts.inspect import read_sidecar
from auditor.artifacts.metadata import ArtifactMetadata, trusted_metadata
from auditor.config.spec import load_spec
from auditor.errors import AuditInputError
from auditor.report import render_report
from auditor.result.document import dumps, load_result, seal
from auditor.training.recipes import RECIPES, stored_params

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples every run: CI stays deterministic
)

# Keys the parsers know, mixed with random ones, so that examples reach deep code paths.
SPEC_KEYS = [
    "name", "seed", "artifact", "data", "scheme", "attacks", "utility", "consumer", "executor",
    "gates", "kind", "path", "architecture", "base", "site_vectors", "members", "non_members",
    "test", "population", "label", "id", "sensitive", "site", "run", "bootstrap", "confidence",
    "delta", "reference_models", "device", "cache", "group_bootstrap", "baseline", "dp_baseline",
    "dp_epsilon", "architectures", "address", "cpus_per_task", "max_retries", "max", "min",
    "bound", "privacy.loss.auc", "utility.auroc", "loss", "lira_online", "model", "dataset",
]  # fmt: skip
META_KEYS = [
    "auditor_metadata_version", "architecture", "n_features", "n_classes", "label", "output",
    "encoding", "recipe", "claims", "details", "numeric", "categorical", "name", "mean", "std",
    "categories", "seed", "hyperparameters", "supervised", "dp_sgd", "hidden", "epochs", "lr",
    "epsilon", "delta", "params", "settings", "kind", "per_class", "consumer",
]  # fmt: skip


def scalars(finite: bool = False) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=not finite, allow_infinity=not finite),
        st.text(max_size=12),
        st.sampled_from(["mlp", "loss", "supervised", "model", "logits", "x.csv", "../x"]),
    )


def documents(keys: list[str], finite: bool = False) -> st.SearchStrategy[Any]:
    key = st.one_of(st.sampled_from(keys), st.text(max_size=8))
    return st.recursive(
        scalars(finite),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=6)
        ),
        max_leaves=30,
    )


def _toml_value(value: Any) -> str:
    if value is None or (isinstance(value, dict) and not value):
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return (
        "{ "
        + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        + " }"
    )


def toml_text(document: Any) -> str:
    if not isinstance(document, dict):
        return f"x = {_toml_value(document)}\n"
    lines = [f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in document.items()]
    return "\n".join(lines) + "\n"


@FUZZ
@given(document=documents(SPEC_KEYS))
def test_spec_parser_gives_a_spec_or_an_input_error(document: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.toml"
        path.write_text(toml_text(document), encoding="utf-8")
        with contextlib.suppress(AuditInputError):
            load_spec(path)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_spec_parser_survives_any_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.toml"
        path.write_bytes(raw)
        with contextlib.suppress(AuditInputError):
            load_spec(path)


@FUZZ
@given(document=documents(META_KEYS), architecture=st.sampled_from([None, "mlp", "p.m:f"]))
def test_metadata_parser_gives_metadata_or_an_input_error(
    document: Any, architecture: str | None
) -> None:
    try:
        meta = ArtifactMetadata.from_dict(document, "m.json")
        meta = trusted_metadata(meta, architecture, "m.json")
        for name in RECIPES:
            stored_params(
                name, meta.recipe_params, legacy=meta.legacy_params, where="m.json", field="r"
            )
    except AuditInputError:
        pass


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300), documents(META_KEYS).map(lambda d: json.dumps(d).encode())
    )
)
def test_sidecar_parsers_give_metadata_or_an_input_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        model, table = Path(folder) / "m.onnx", Path(folder) / "d.csv"
        model.write_bytes(b"")
        table.write_text("a,death\n1,0\n2,1\n", encoding="utf-8")
        for artifact in (model, table):
            artifact.with_name(artifact.name + ".meta.json").write_bytes(raw)
        with contextlib.suppress(AuditInputError):
            read_sidecar(model)
        with contextlib.suppress(AuditInputError):
            load_dataset(table, label="death")


VALID_RESULT = seal(
    {
        "run": {"name": "r", "seed": 1},
        "artifact": {"kind": "model"},
        "data": {"sensitive": ["sex"]},
        "privacy": {"membership": {"loss": {"auc": {"value": 0.5, "lower": 0.4, "upper": 0.6}}}},
        "utility": {},
        "fairness": {},
        "gates": [],
    }
)


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        documents(SPEC_KEYS + META_KEYS).map(lambda d: json.dumps(d).encode()),
        # resealed documents: a valid hash over any structure
        st.sampled_from(["privacy", "utility", "fairness", "gates", "data", "run"]).flatmap(
            lambda part: documents(SPEC_KEYS + META_KEYS, finite=True).map(
                lambda d: dumps({**VALID_RESULT, part: d}).encode()
            )
        ),
        st.integers(min_value=1, max_value=100_000).map(lambda n: b"[" * n + b"]" * n),
    )
)
def test_result_loader_gives_a_result_or_an_input_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "result.json"
        path.write_bytes(raw)
        try:
            result = load_result(path)
        except AuditInputError:
            return
        render_report(result)  # whatever loads, renders
