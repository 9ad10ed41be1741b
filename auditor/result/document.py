"""The result JSON: one versioned document, the single source of truth for reports and gates.

Schema (version 1): its keys are typed once in `result.sections` (`Document` and the
sections under it: run with reference_models and bootstrap, artifact with training, data,
privacy, utility, baselines, fairness, gates), and described for people in README "Result
schema"; `seal` adds schema, schema_version and integrity (sha256 of the document without
that field and the signature). No record values appear in it: only aggregates, hashes and
file names.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from auditor.core.hashing import canonical, read_utf8, write_text_atomic
from auditor.errors import AuditInputError, Problem, ResultSchemaError
from auditor.result.signing import signature_problems

__all__ = ["dumps", "load_result", "seal", "write_text_atomic"]

SCHEMA = "auditor.result"
SCHEMA_VERSION = 1
LIBRARIES = (
    "torch",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "adversarial-robustness-toolbox",
    "fairlearn",
    "opacus",
    "safetensors",
    "plotly",
    "jinja2",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries whose numbers the result depends on."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """Add the schema header and the integrity hash over everything else (a signature, if
    there is one, is kept outside what the hash covers)."""
    body = {k: v for k, v in document.items() if k not in ("integrity", "signature")}
    body["schema"], body["schema_version"] = SCHEMA, SCHEMA_VERSION
    body["integrity"] = hashlib.sha256(canonical(body).encode()).hexdigest()
    if "signature" in document:
        body["signature"] = document["signature"]
    return body


def dumps(document: dict[str, Any]) -> str:
    """Canonical text of a sealed result (sorted keys): same input, same bytes."""
    return canonical(seal(document))


# The parts of a result every reader relies on, and their JSON types.
_STRUCTURE: dict[str, type] = {
    "run": dict,
    "artifact": dict,
    "data": dict,
    "privacy": dict,
    "utility": dict,
    "fairness": dict,
    "gates": list,
}
_GATE = {"metric": str, "op": str, "passed": bool, "message": str}
_RERUN = "re-run the audit with this version (auditor run SPEC) instead of editing results"


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _parse(path: Path) -> Any:
    """The JSON document of `path`; ResultSchemaError when it is not readable JSON."""
    try:
        text = read_utf8(path, field="result")
    except AuditInputError as exc:
        raise ResultSchemaError(exc.problems) from exc
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # NaN / Infinity, bad JSON, deep nesting
        line = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        message = f"is not valid JSON{line} (NaN, Infinity and deep nesting are refused)"
        raise ResultSchemaError(Problem(str(path), "result", message, _RERUN)) from exc


def structure_problems(document: dict[str, Any], where: str) -> list[Problem]:
    """Parts of a result that are missing or of the wrong type."""
    problems = [
        Problem(where, key, f"is missing or not a JSON {kind.__name__}", _RERUN)
        for key, kind in _STRUCTURE.items()
        if not isinstance(document.get(key), kind)
    ]
    if problems:
        return problems
    membership = document["privacy"].get("membership")
    if not isinstance(membership, dict) or not all(
        isinstance(m, dict) for m in membership.values()
    ):
        problems.append(Problem(where, "privacy.membership", "is not an object of objects", _RERUN))
    for i, gate in enumerate(document["gates"]):
        if not isinstance(gate, dict) or not all(
            isinstance(gate.get(k), t) for k, t in _GATE.items()
        ):
            problems.append(Problem(where, f"gates[{i}]", "is not a gate outcome", _RERUN))
    return problems


def load_result(path: Path) -> dict[str, Any]:
    """Read a result JSON; ResultSchemaError (file, field, fix) if it is not one, of another
    schema version, malformed, or edited after it was written (integrity hash mismatch)."""
    where = str(path)
    document = _parse(path)
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        message = f"is not an auditor result (field 'schema' is not {SCHEMA!r})"
        raise ResultSchemaError(Problem(where, "schema", message, "name a result.json"))
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        message = f"is version {version!r}, but this auditor reads version {SCHEMA_VERSION}"
        raise ResultSchemaError(Problem(where, "schema_version", message, _RERUN))
    expected = seal(document)["integrity"]
    if document.get("integrity") != expected:
        message = (
            "does not match the content: the result was edited or truncated after it was written"
        )
        raise ResultSchemaError(Problem(where, "integrity", message, _RERUN))
    problems = structure_problems(document, where) + signature_problems(document, where)
    if problems:
        raise ResultSchemaError(problems)
    return document
