"""The one writer of a spec: a mapping, as `parse_spec` reads it, as TOML text.

Top-level keys first, then one table per section in the mapping's order; strings as TOML
basic strings (a JSON string is one), numbers as written, paths with forward slashes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def spec_toml(mapping: Mapping[str, Any], comment: str = "") -> str:
    """TOML text of a spec mapping; `tomllib.loads(spec_toml(m)) == m` for the values a
    spec holds (strings, paths as strings, booleans, finite numbers, lists, inline tables).
    `comment` (any number of lines) heads the file as `#` lines."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in mapping.items() if not isinstance(v, Mapping)]
    for name, table in mapping.items():
        if isinstance(table, Mapping):
            if lines:
                lines.append("")
            lines.append(f"[{_key(name)}]")
            lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a spec holds finite numbers only, not {value!r}")
        return repr(value)
    if isinstance(value, PurePath):
        return json.dumps(value.as_posix())
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"a spec holds no {type(value).__name__}")
