"""Command line: `auditor init | run | dp-audit | validate | report | compare | demo | cache
| keygen | verify` (`auditor.cli.app`). Exit codes: 0 all gates pass, 1 a gate failed, 2 bad
input or usage (the message names the file, the field and the fix)."""

from auditor.cli import audit_commands, file_commands  # noqa: F401  (registers the commands)
from auditor.cli.app import app

__all__ = ["app"]
