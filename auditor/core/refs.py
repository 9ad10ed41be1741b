"""References to functions in the registries: a callable, or a `"package.module:function"`
string imported on first use, so that a registry low in the layers (read by the spec parser,
which must stay fast and torch-free) can name behaviour that lives higher up."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

Ref = Callable[..., Any] | str


def resolve(ref: Ref) -> Callable[..., Any]:
    """The callable `ref` names: itself, or the object `"module:name"` names."""
    if not isinstance(ref, str):
        return ref
    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"{ref!r} is not a 'package.module:function' reference")
    found = getattr(importlib.import_module(module), name)
    if not callable(found):
        raise TypeError(f"{ref!r} is not callable")
    return found  # type: ignore[no-any-return]
