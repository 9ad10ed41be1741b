"""Table-driven parsing of a TOML document: each field declared once (type, default,
bounds, options, fix); every problem collected with the file, the field and the fix."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from auditor.errors import Problem, did_you_mean

MAX_KEYS = 2000  # keys in a spec (gates included); more is not a spec, and would be slow

Kind = Literal["int", "number", "bool", "str", "choice", "names", "path"]


@dataclass(frozen=True)
class Field:
    """One spec field, `section.key` (or a top-level `key`)."""

    name: str
    kind: Kind
    default: Any = None
    low: float | None = None  # inclusive bounds for int and number
    high: float | None = None
    options: Callable[[], Sequence[str]] | None = None  # choice, names: allowed values
    required: bool = False
    why: str = ""  # the reason for a bound, given in the fix

    @property
    def section(self) -> str | None:
        return self.name.split(".", 1)[0] if "." in self.name else None

    @property
    def key(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def _bounds(field: Field) -> str:
    if field.low is not None and field.high is not None:
        text = f"from {field.low:g} to {field.high:g}"
    elif field.low is not None:
        text = f">= {field.low:g}"
    else:
        text = f"<= {field.high:g}" if field.high is not None else "any"
    return text + (f" ({field.why})" if field.why else "")


def _short(value: Any) -> str:
    return repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."


def _number(field: Field, value: Any) -> str | None:
    """What is wrong with a number, or None."""
    integer = field.kind == "int"
    if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
        return "an integer" if integer else "a number"
    if not math.isfinite(float(value)):
        return "a finite number"
    if (field.low is not None and value < field.low) or (
        field.high is not None and value > field.high
    ):
        return ("an integer " if integer else "a number ") + _bounds(field)
    return None


def parse_field(field: Field, value: Any, base: Path) -> tuple[Any, Problem | None]:
    """(parsed value, or the default; a problem without its file, or None) for a value."""
    if field.kind in ("int", "number"):
        wrong = _number(field, value)
        if wrong:
            return field.default, Problem("", field.name, f"is {_short(value)}", f"use {wrong}")
        return (float(value) if field.kind == "number" else value), None
    if field.kind == "bool":
        if not isinstance(value, bool):
            return field.default, Problem(
                "", field.name, f"is {_short(value)}", "use true or false"
            )
        return value, None
    if field.kind == "str":
        if not isinstance(value, str) or not value.strip():
            return field.default, Problem("", field.name, "must be a non-empty string", "quote it")
        return value, None
    if field.kind == "choice":
        options = tuple(field.options() if field.options else ())
        if value not in options:
            return field.default, Problem(
                "", field.name, f"is {_short(value)}", did_you_mean(str(value), options)
            )
        return value, None
    if field.kind == "names":
        return _names(field, value)
    return _path(field, value, base)


def _names(field: Field, value: Any) -> tuple[Any, Problem | None]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        example = f"e.g. {field.name.split('.')[-1]} = {list(field.default or [])!r}"
        return field.default, Problem("", field.name, "must be a list of names", example)
    if field.options is not None:
        options = tuple(field.options())
        for name in value:
            if name not in options:
                problem = Problem(
                    "", field.name, f"names unknown {_short(name)}", did_you_mean(name, options)
                )
                return tuple(v for v in value if v in options), problem
    return tuple(dict.fromkeys(value)), None


def _path(field: Field, value: Any, base: Path) -> tuple[Any, Problem | None]:
    fix = f'set {field.name} = "path/to/file"'
    if not isinstance(value, str) or not value or "\x00" in value:
        return None, Problem("", field.name, "must be a file path", fix)
    try:
        resolved = (base / value).resolve()
        is_dir, is_file = resolved.is_dir(), resolved.is_file()
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long for the system
        reason = "a symbolic link loop" if isinstance(exc, RuntimeError) else exc.strerror
        message = f"names {_short(value)}, which cannot be opened ({str(reason).lower()})"
        return None, Problem("", field.name, message, "point it at the file itself")
    if is_dir:
        return resolved, Problem(
            "", field.name, f"names {_short(value)}, which is a folder", "name a file"
        )
    if not is_file:
        message = f"names {_short(value)}, which does not exist (looked in {base})"
        fix = "check the path; relative paths are relative to the spec file"
        return resolved, Problem("", field.name, message, fix)
    return resolved, None


def parse_table(
    raw: dict[str, Any], fields: Sequence[Field], where: str, base: Path
) -> tuple[dict[str, Any], list[Problem]]:
    """Every field's value (parsed, or its default) by name, and the problems found:
    unknown sections and keys included (with a "did you mean")."""
    problems: list[Problem] = []
    if sum(len(v) if isinstance(v, dict) else 1 for v in raw.values()) > MAX_KEYS:
        message = f"has more than {MAX_KEYS} keys; a spec has a few dozen"
        return {f.name: f.default for f in fields}, [
            Problem(where, "spec", message, "check that this is the spec")
        ]
    sections = {f.section for f in fields if f.section} | {"gates"}
    top = {f.name for f in fields if f.section is None}
    for key, value in raw.items():
        if key in top:
            continue
        if key not in sections:
            problems.append(
                Problem(
                    where,
                    str(key)[:40],
                    "is not a known section or key",
                    did_you_mean(str(key), sorted(sections | top)),
                )
            )
        elif not isinstance(value, dict):
            problems.append(Problem(where, key, "must be a table", f"write it as [{key}]"))
        elif key != "gates":
            known = sorted(f.key for f in fields if f.section == key)
            problems += [
                Problem(
                    where,
                    f"{key}.{str(sub)[:40]}",
                    "is not a known field",
                    did_you_mean(str(sub), known),
                )
                for sub in value
                if sub not in known
            ]
    values: dict[str, Any] = {}
    for field in fields:
        table = raw.get(field.section, {}) if field.section else raw
        table = table if isinstance(table, dict) else {}
        if field.key not in table:
            values[field.name] = field.default
            if field.required:
                problems.append(Problem(where, field.name, "is missing", f"set {field.name}"))
            continue
        values[field.name], problem = parse_field(field, table[field.key], base)
        if problem is not None:
            problems.append(Problem(where, problem.field, problem.message, problem.fix))
    return values, problems
