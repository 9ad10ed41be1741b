"""Release auditor: privacy, utility and fairness audits of artifacts derived from patient data.

`auditor.audit(model, members=..., non_members=..., test=..., population=...)` runs one
audit from Python (see `auditor.api.audit`); the command line is `auditor`.
"""

from auditor import audit as audit  # a callable package: auditor.audit(...) (auditor.api)
from auditor.core.version import VERSION

__version__ = VERSION
