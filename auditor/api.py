"""The Python API: `auditor.audit(model, members=..., ...)` from fitted objects and
DataFrames (or paths) to the sealed result, in a notebook or a script. The CLI's `init` and
`run` are the same two steps: infer the metadata and spec (`auditor.init`), then run it.

DataFrames stay in memory: the spec is built as a mapping (`config.spec.parse_spec`) and
each split is read and hashed as the CSV file `to_csv(index=False)` would write, so the
result equals that of `auditor run` on such files, and no patient record is written to
disk. The fitted model is written to a private working folder (a scikit-learn model as
skops, a LightGBM model in its text format, a torch module as TorchScript) with its
metadata, and the folder is removed afterwards unless you name it (`workdir`). A named
`workdir` must be new, empty, or one the API made before: it never writes over a file it
did not create.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd

from auditor.artifacts.formats import FORMATS
from auditor.artifacts.query import is_torch_module
from auditor.config.spec import parse_spec
from auditor.core.outputs import mark, output_problems
from auditor.core.refs import resolve
from auditor.data.tables import SPLIT_NAMES, csv_failure
from auditor.errors import AuditInputError, Problem, fail
from auditor.init import infer, spec_mapping, write_metadata
from auditor.orchestration.progress import Quiet, StageLog
from auditor.orchestration.run import run_audit
from auditor.result.document import dumps

Table: TypeAlias = pd.DataFrame | str | Path


@dataclass(frozen=True)
class AuditResult:
    """One audit's sealed result document, with its per-stage wall-clock times."""

    document: dict[str, Any]
    timings: dict[str, float]

    @property
    def passed(self) -> bool:
        """Whether every gate passed (True when there are none)."""
        return all(g["passed"] for g in self.gates)

    @property
    def gates(self) -> list[dict[str, Any]]:
        """Each gate: metric, threshold, observed value, passed, message."""
        return list(self.document["gates"])

    def to_json(self) -> str:
        """The result document as `auditor run` writes result.json."""
        return dumps(self.document)

    def write_report(self, path: str | Path, *, force: bool = False) -> Path:
        """Render the self-contained HTML report to `path`; returns the path. A file there
        that the auditor did not write is replaced only with `force=True`."""
        from auditor.core.hashing import write_text_atomic
        from auditor.report import render_report

        target = Path(path)
        problems = output_problems(target, field="path", folder=False, force=force)
        if problems:
            raise AuditInputError(problems)
        write_text_atomic(target, render_report(json.loads(self.to_json()), self.timings))
        return target

    def _repr_html_(self) -> str:
        from auditor.report.notebook import notebook_summary

        return notebook_summary(self.document)


def _model_file(model: Any, folder: Path, numeric_width: int) -> Path:
    """A fitted object written in a format the auditor reads without unpickling (a torch
    module as TorchScript: the caller's own object, so its code is the caller's)."""
    if isinstance(model, str | Path):
        source = Path(model)
        if not source.is_file():
            raise AuditInputError(
                Problem(_WHERE, "model", f"{source} is not a file", "check the model's path")
            )
        target = folder / source.name  # init writes the metadata beside it: not the user's
        shutil.copyfile(source, target)
        return target
    for fmt in FORMATS.values():  # the formats that can store a fitted object
        if fmt.save is not None:
            stored = resolve(fmt.save)(model, folder, numeric_width)
            if stored is not None:
                return Path(stored)
    raise AuditInputError(
        Problem(
            "model",
            "model",
            f"is a {type(model).__name__}, which the auditor cannot store safely",
            "pass a scikit-learn estimator or Pipeline, a LightGBM model, a torch module, "
            "or the path of a skops / ONNX / LightGBM / TorchScript file",
        )
    )


def audit(
    model: Any,
    *,
    members: Table,
    non_members: Table,
    test: Table,
    population: Table,
    label: str | None = None,
    id: str | None = None,
    sensitive: Sequence[str] | None = None,
    attacks: Sequence[str] | None = None,
    train: str | None = None,
    seed: int = 0,
    bootstrap: int = 1000,
    reference_models: int = 64,
    gates: Mapping[str, Mapping[str, float]] | None = None,
    progress: bool = True,
    workdir: str | Path | None = None,
    allow_code: bool = False,
    trusted_functions: Sequence[str] = (),
) -> AuditResult:
    """Audit a fitted model (or a model file) on the four splits of its patients.

    `members` trained the model, `non_members` are like them but unseen, `test` measures
    utility, `population` is what an attacker (and the reference models) may use: each a
    DataFrame or a CSV path, one row per patient. `label` and `id` are inferred from the
    column names when left out; `sensitive` from names such as sex or race. `train`
    ("package.module:function") is your training code for the reference models. `gates`
    maps metric names to {"max": x} or {"min": x} (and optionally "bound": "upper" or
    "lower", as in a spec). Progress lines go to stderr unless
    `progress=False`. A model *file* in pickle or TorchScript format runs its own code
    and is read only with `allow_code=True` (a torch module object is yours already);
    `trusted_functions` names the functions a skops model may call ("numpy.log1p").
    Raises AuditInputError (every problem, with its fix) for bad input.
    """
    problems = _argument_problems(
        {"members": members, "non_members": non_members, "test": test, "population": population},
        {"label": label, "id": id, "train": train},
        {"sensitive": sensitive, "attacks": attacks, "trusted_functions": trusted_functions},
        {"seed": seed, "bootstrap": bootstrap, "reference_models": reference_models},
        gates,
    )
    if problems:
        raise AuditInputError(problems)
    sensitive = [sensitive] if isinstance(sensitive, str) else sensitive
    attacks = [attacks] if isinstance(attacks, str) else attacks
    trusted_functions = (
        [trusted_functions] if isinstance(trusted_functions, str) else trusted_functions
    )
    own = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="auditor-") if workdir is None else workdir)
    if not own:
        problems = output_problems(folder, field="workdir", folder=True, writes=None)
        if problems:  # the API has no force: a workdir is new, empty, or the API's own
            fix = "name a new or empty folder (or leave workdir out: a private one is used)"
            raise AuditInputError([Problem(_WHERE, p.field, p.message, fix) for p in problems])
    try:
        mark(folder)
        given = dict(zip(SPLIT_NAMES, (members, non_members, test, population), strict=True))
        # DataFrames stay in memory: their [data] entry is only the name the result shows
        frames = {n: v for n, v in given.items() if isinstance(v, pd.DataFrame)}
        data = {
            n: Path(v) if isinstance(v, str | Path) else folder / f"{n}.csv"
            for n, v in given.items()
        }
        first = frames.get("members")
        if first is None:
            first = _head(data["members"])
        width = sum(pd.api.types.is_numeric_dtype(first[c]) for c in first.columns) - 2
        path = _model_file(model, folder, max(width, 1))
        # A module the caller passed in is the caller's code; a file's code needs the opt-in.
        code = allow_code or is_torch_module(model)
        inferred = infer(
            path,
            data["members"],
            label=label,
            id=id,
            sensitive=list(sensitive) if sensitive is not None else None,
            train=train,
            allow_code=code,
            trusted_functions=tuple(trusted_functions),
            table=frames.get("members"),
        )
        write_metadata(inferred, path)
        run_attacks = list(attacks) if attacks is not None else None
        mapping = {
            "seed": seed,
            **spec_mapping(inferred, path, data, folder, train=train, attacks=run_attacks),
        }
        mapping["attacks"] |= {"bootstrap": bootstrap, "reference_models": reference_models}
        if gates:
            mapping["gates"] = {str(m): dict(bounds) for m, bounds in gates.items()}
        spec = parse_spec(mapping, folder, tables=frames)
        reporter = StageLog(lambda line: print(line, file=sys.stderr)) if progress else Quiet()
        outcome = run_audit(spec, allow_code=code, progress=reporter)
        if isinstance(reporter, StageLog):
            reporter.close()
        return AuditResult(outcome.result, outcome.timings)
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _head(path: Path) -> pd.DataFrame:
    """The first rows of a members CSV (its numeric width, for tracing a torch module)."""
    try:
        return pd.read_csv(path, nrows=50)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise fail(str(path), "csv", csv_failure(exc), "write it as UTF-8 CSV") from exc


_WHERE = "auditor.audit(...)"


def _argument_problems(
    tables: dict[str, Any],
    names: dict[str, Any],
    lists: dict[str, Any],
    counts: dict[str, Any],
    gates: Any,
) -> list[Problem]:
    """Every argument of the wrong type, as the problems `auditor.audit` raises."""
    problems = []
    for key, value in tables.items():
        if isinstance(value, pd.DataFrame):
            continue
        if not isinstance(value, str | Path):
            what = f"is a {type(value).__name__}"
            problems.append(Problem(_WHERE, key, what, "pass a DataFrame or a CSV path"))
        elif not Path(value).is_file():
            problems.append(Problem(_WHERE, key, f"{value} is not a file", "check the path"))
    for key, value in names.items():
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(Problem(_WHERE, key, "must be a column name", f"e.g. {key}='death'"))
    for key, value in lists.items():
        ok = (
            value is None
            or isinstance(value, str)
            or (isinstance(value, Sequence) and all(isinstance(v, str) for v in value))
        )
        if not ok:
            problems.append(Problem(_WHERE, key, "must be a list of names", f"e.g. {key}=['sex']"))
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            what = f"is a {type(value).__name__}"
            problems.append(Problem(_WHERE, key, what, f"pass an integer, e.g. {key}=1000"))
    ok_gates = gates is None or (
        isinstance(gates, Mapping)
        and all(isinstance(b, Mapping) for b in gates.values())
        and all(
            isinstance(v, int | float | str) and not isinstance(v, bool)
            for b in gates.values()
            for v in b.values()
        )
    )
    if not ok_gates:
        fix = 'e.g. gates={"privacy.loss.auc": {"max": 0.6, "bound": "upper"}}'
        problems.append(Problem(_WHERE, "gates", "must map metrics to {op: number}", fix))
    return problems
