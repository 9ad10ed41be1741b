"""Release auditor: privacy, utility and fairness audits of artifacts derived from patient data.

`auditor.audit(model, members=..., non_members=..., test=..., population=...)` runs one
audit from Python and returns an `AuditResult`; bad input raises `AuditInputError` (see
`auditor.api.audit`). The command line is `auditor`. The API is imported on first use, so
that `import auditor` (and `auditor validate`) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.core.version import VERSION
from auditor.errors import AuditInputError

if TYPE_CHECKING:
    from auditor.api import AuditResult, audit

__all__ = ["AuditInputError", "AuditResult", "__version__", "audit"]
__version__ = VERSION


def __getattr__(name: str) -> Any:
    if name in ("audit", "AuditResult"):
        from auditor import api

        return getattr(api, name)
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")
