"""The audit of one artifact (context, inputs, sections, each kind, run).

The package is also the Python API's entry point: `auditor.audit(model, members=..., ...)`
calls `auditor.api.audit` (documented there). A package cannot be a function, so its module
class gets a `__call__`; the import of the API inside it is the one import from this layer
upward, declared in pyproject.toml's layer contract.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


class _CallablePackage(ModuleType):
    def __call__(self, model: Any, /, **options: Any) -> Any:
        """`auditor.audit(...)`: see `auditor.api.audit`."""
        from auditor.api import audit

        return audit(model, **options)


sys.modules[__name__].__class__ = _CallablePackage
