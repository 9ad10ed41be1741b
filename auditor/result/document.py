"""The result JSON: one versioned document, the single source of truth for reports and gates.

Schema (version 1), documented in README "Result schema":
  schema, schema_version, integrity (sha256 of the document without this field),
  run {name, seed, spec_sha256, auditor_version, libraries, bootstrap},
  artifact {kind, format, file_name, sha256, scheme, architecture, n_features, claims},
  data {label, sensitive, splits {name: {file_name, sha256, rows}}},
  privacy {membership {attack: figures}}, utility {n_test, artifact, baseline, difference},
  fairness {attribute: figures}, gates [outcome].
No record values appear in it: only aggregates, hashes and file names.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from auditor.core.hashing import write_text_atomic
from auditor.errors import ResultSchemaError

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


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, allow_nan=False) + "\n"


def seal(document: dict[str, Any]) -> dict[str, Any]:
    """Add the schema header and the integrity hash over everything else."""
    body = {k: v for k, v in document.items() if k != "integrity"}
    body["schema"], body["schema_version"] = SCHEMA, SCHEMA_VERSION
    body["integrity"] = hashlib.sha256(_canonical(body).encode()).hexdigest()
    return body


def dumps(document: dict[str, Any]) -> str:
    """Canonical text of a sealed result (sorted keys): same input, same bytes."""
    return _canonical(seal(document))


def load_result(path: Path) -> dict[str, Any]:
    """Read a result JSON; ResultSchemaError if it is not one, of another schema version,
    or was edited after it was written (integrity hash mismatch)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultSchemaError(f"{path}: not a readable result JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ResultSchemaError(f"{path}: not an auditor result (field 'schema' is not {SCHEMA!r})")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultSchemaError(
            f"{path}: result schema version {version!r}, but this auditor reads version "
            f"{SCHEMA_VERSION}; re-run the audit with this version (auditor run SPEC)"
        )
    expected = seal(document)["integrity"]
    if document.get("integrity") != expected:
        raise ResultSchemaError(
            f"{path}: integrity hash does not match the content: the result was edited or "
            "truncated after it was written; re-run the audit instead of editing results"
        )
    return document
