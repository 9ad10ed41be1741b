"""pytest plugin: audit gates as test items.

`pytest --audit spec.toml` runs the audit once and yields one test item per gate;
`pytest --audit-result result.json` checks the gates recorded in a result. A failing item's
message gives the value, its interval and the threshold. Registered through the `pytest11`
entry point; nothing heavy is imported unless one of the options is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("auditor", "privacy audit gates")
    group.addoption("--audit", metavar="SPEC", help="run the audit SPEC; one test per gate")
    group.addoption(
        "--audit-result", metavar="RESULT", help="check the gates recorded in a result JSON"
    )


class GateFailure(AssertionError):
    """A gate that did not pass (its message says why)."""


class AuditGates(pytest.Item):
    """One declared gate of an audit."""

    def __init__(self, *, outcome: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcome = outcome

    def runtest(self) -> None:
        if not self.outcome["passed"]:
            raise GateFailure(self.outcome["message"])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, GateFailure):
            return f"gate failed: {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"gate {self.name}"


class AuditFile(pytest.File):
    """The gates of one audit (spec run now, or a result read from disk)."""

    def collect(self):
        from auditor.errors import AuditInputError, ResultSchemaError
        from auditor.result.document import load_result

        try:
            if self.path.suffix == ".json":
                result = load_result(self.path)
            else:
                from auditor.config.spec import load_spec
                from auditor.orchestration.run import run_audit

                result = run_audit(load_spec(self.path)).result
        except (AuditInputError, ResultSchemaError) as exc:
            raise pytest.UsageError(f"auditor: {exc}") from None
        if not result["gates"]:
            raise pytest.UsageError(f"auditor: {self.path} declares no gates")
        for outcome in result["gates"]:
            yield AuditGates.from_parent(self, name=outcome["metric"], outcome=outcome)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for option in ("audit", "audit_result"):
        value = config.getoption(option)
        if value:
            audit = AuditFile.from_parent(session, path=Path(value).resolve())
            items.extend(audit.collect())
