"""The demo fixtures' specs, written by the one spec writer (`config.writer.spec_toml`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.config.writer import spec_toml
from auditor.data.splits import SPLIT_NAMES


def split_paths(folder: str, suffix: str = ".csv") -> dict[str, str]:
    """The four splits' paths as a spec beside `folder` names them."""
    return {name: f"{folder}/{name}{suffix}" for name in SPLIT_NAMES}


def write_spec(path: Path, mapping: Mapping[str, Any], comment: str) -> Path:
    """Write a demo spec (UTF-8), with `comment` at its head; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec_toml(mapping, comment), encoding="utf-8")
    return path
