"""Domain errors. Every user-facing problem names the file, the field and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input."""

    where: str  # the file (or "<spec>") the problem was found in
    field: str  # the field, column or option at fault
    message: str  # what is wrong
    fix: str  # what to do about it

    def __str__(self) -> str:
        return f"{self.where}: [{self.field}] {self.message}. Fix: {self.fix}"


class AuditInputError(ValueError):
    """Bad user input (spec, data or artifact). The CLI maps it to exit code 2.

    Carries every problem found, so that a user fixes them all in one go.
    """

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[AuditInputError], tuple[list[Problem]]]:
        # Pickled with its problems (a worker process raises it; the caller reports them).
        return (type(self), (self.problems,))


def fail(where: str, field: str, message: str, fix: str) -> AuditInputError:
    """Build a single-problem error, to be raised by the caller."""
    return AuditInputError(Problem(where=where, field=field, message=message, fix=fix))


class ResultSchemaError(AuditInputError):
    """A result JSON that this version of the auditor cannot read (unknown, malformed or
    tampered); exit code 2 like any bad input."""


def did_you_mean(name: str, options: Sequence[str], lead: str = "use one of") -> str:
    """A fix naming the closest option ("did you mean 'x'?"), then all of them."""
    close = difflib.get_close_matches(name, list(options), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}{lead} {', '.join(options)}"
