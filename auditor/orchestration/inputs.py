"""One input check, shared by `auditor validate`, `auditor run`, the pytest plugin and the
Python API: every artifact, metadata, sidecar and data problem that a run would meet,
found before any model is trained, without running the artifact's code.

Problems of independent inputs are collected together (the artifact's and the data's);
data that needs the artifact's encoding is checked once the artifact's metadata is read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from auditor.artifacts import KINDS
from auditor.artifacts.datasets import load_dataset
from auditor.artifacts.inspect import inspect_model
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.attacks import ATTACKS
from auditor.config.spec import AuditSpec
from auditor.core.encoding import FeatureEncoding
from auditor.core.refs import resolve
from auditor.data.tables import Features, load_audit_data
from auditor.errors import AuditInputError, Problem
from auditor.training.cache import cache_problems
from auditor.training.recipes import RECIPES, stored_params
from auditor.training.recipes.user import import_training
from auditor.training.user_generator import UserGenerator


def _collect(problems: list[Problem], check: Callable[[], Any]) -> Any:
    """`check()`, its AuditInputError's problems added to `problems` (then None)."""
    try:
        return check()
    except AuditInputError as exc:
        problems += exc.problems
        return None


def _attribute_gates(
    spec: AuditSpec, encoding: FeatureEncoding | None, multilabel: bool = False
) -> list[Problem]:
    """Gates on the attribute inference of a column that is not a categorical model input,
    or of a multi-label model (nothing would be measured for it)."""
    prefix = "privacy.attribute_inference."
    table = encoding is not None and not multilabel
    categorical = (
        {f.name for f in encoding.categorical} if encoding is not None and table else set()
    )
    why = (
        "attribute inference does not run on multi-label models"
        if multilabel
        else "is not a categorical input of the model: attribute inference does not run on it"
    )
    return [
        Problem(
            str(spec.path),
            f"gates.{gate.metric}",
            f"{attribute}: {why}" if multilabel else f"{attribute} {why}",
            f"gate a categorical input ({', '.join(sorted(categorical)) or 'none'}) or drop it",
        )
        for gate in spec.gates
        if gate.metric.startswith(prefix)
        and (attribute := gate.metric[len(prefix) :].rpartition(".")[0]) not in categorical
    ]


def label_structure_problems(spec: AuditSpec, meta: ArtifactMetadata) -> list[Problem]:
    """The spec's labels must have the model's structure (one outcome column, or one 0/1
    column per output of a multi-label model), and every attack must take that structure."""
    where = str(spec.path)
    if spec.data.multilabel != meta.multilabel:
        has = "a multi-label model" if meta.multilabel else "a single-label model"
        fix = (
            f"name its label columns: labels = {list(meta.labels)}"
            if meta.multilabel
            else 'name its outcome column: label = "..."'
        )
        field = "data.labels" if spec.data.multilabel else "data.label"
        return [Problem(where, field, f"does not fit the artifact: {has} (its metadata)", fix)]
    if not meta.multilabel:
        return []
    problems = [
        Problem(
            where,
            "attacks.run",
            f"includes {name}, which takes single-label models only",
            f"drop {name}: the other attacks score multi-label records",
        )
        for name in spec.attacks.run
        if not ATTACKS[name].multilabel
    ]
    if spec.artifact.train is not None:
        fix = "drop train: reference models are trained by the auditor's recipe"
        message = "is fed one label column; multi-label models are not supported yet"
        problems.append(Problem(where, "artifact.train", message, fix))
    return problems


def _recipe(spec: AuditSpec, meta: ArtifactMetadata, where: str) -> None:
    field = f"recipe.{meta.params_key}"
    stored_params(
        meta.recipe, meta.recipe_params, legacy=meta.legacy_params, where=where, field=field
    )


Read = tuple[Features, int]  # what the data is checked against: features, outputs


def read_model_inputs(spec: AuditSpec, allow_code: bool, problems: list[Problem]) -> Read | None:
    artifact = spec.artifact

    def inspect(path: Path) -> ArtifactMetadata:
        return inspect_model(
            path,
            architecture=artifact.architecture,
            allow_code=allow_code,
            trusted_functions=artifact.trusted_functions,
        )

    meta = _collect(problems, lambda: inspect(artifact.path))
    base, vectors, train = artifact.base, artifact.site_vectors, artifact.train
    if base is not None:
        _collect(problems, lambda: inspect(base))
    if vectors is not None:
        from auditor.artifacts.weights import check_site_vectors

        _collect(problems, lambda: check_site_vectors(vectors))
    if train is not None:
        _collect(problems, lambda: import_training(train, str(spec.path)))
    if meta is None:
        return None
    if artifact.train is not None and not meta.raw_columns:
        problems.append(
            Problem(
                str(spec.path),
                "artifact.train",
                "needs a model that reads raw columns (its metadata lists raw_columns): the "
                "function is fed the table's columns",
                "write the metadata with auditor init, or drop train",
            )
        )
    _collect(problems, lambda: _recipe(spec, meta, str(artifact.path)))
    if meta.fit and meta.recipe_params.get("architecture", meta.architecture) == "random_forest":
        problems.append(
            Problem(
                str(artifact.path),
                "recipe.fit",
                "fits the training settings of a torch model; this metadata's architecture "
                "is a random forest",
                "drop recipe.fit, or state the MLP's hidden widths in the recipe's parameters",
            )
        )
    structure = label_structure_problems(spec, meta)
    problems += structure
    if any(p.field != "attacks.run" for p in structure):  # labels of the other structure
        return None
    return meta.features, meta.n_classes


def read_dataset_inputs(spec: AuditSpec, allow_code: bool, problems: list[Problem]) -> Read | None:
    if spec.data.multilabel:
        fix = 'name one outcome column: label = "..."'
        problems.append(
            Problem(str(spec.path), "data.labels", "dataset artifacts are single-label", fix)
        )
        return None
    released = _collect(
        problems,
        lambda: load_dataset(spec.artifact.path, label=spec.data.label, allow_code=allow_code),
    )
    if released is None:
        return None
    if len(np.unique(released.y)) < 2:
        problems.append(
            Problem(
                str(released.path),
                spec.data.label,
                "holds one class only: a model trained on the release predicts one outcome",
                "release records of every outcome class",
            )
        )
    recipe = RECIPES.get(released.recipe)
    if recipe is not None and recipe.releases != "dataset":
        ours = ", ".join(n for n, d in RECIPES.items() if d.releases == "dataset")
        problems.append(
            Problem(
                str(released.path),
                "recipe",
                f"is {released.recipe!r}, a recipe that releases a {recipe.releases}, "
                "not a dataset",
                f"name the recipe that made the released records ({ours}), or audit the "
                "artifact as a model",
            )
        )
        return None
    if released.recipe in RECIPES or spec.scheme is None:
        field = "settings" if released.legacy_params else "params"
        _collect(
            problems,
            lambda: stored_params(
                released.recipe,
                released.params,
                legacy=released.legacy_params,
                where=str(released.path),
                field=field,
            ),
        )
    if spec.artifact.generate is not None:
        name, columns = spec.artifact.generate, (*released.encoding.columns, spec.data.label)
        _collect(problems, lambda: UserGenerator.resolve(name, columns, str(spec.path)))
    return released.encoding, 2


def _baseline(spec: AuditSpec, features: Features, allow_code: bool) -> list[Problem]:
    """The `[utility] baseline` model must read the artifact's features: it is queried on
    the same encoded test records."""
    baseline = spec.baseline
    if baseline is None:
        return []
    problems: list[Problem] = []
    functions = spec.artifact.trusted_functions
    meta = _collect(
        problems,
        lambda: inspect_model(baseline, allow_code=allow_code, trusted_functions=functions),
    )
    if meta is not None and meta.features != features:
        problems.append(
            Problem(
                str(spec.baseline),
                "utility.baseline",
                "reads other features than the artifact (its feature encoding differs)",
                "give a real-records model trained on the artifact's features, or drop "
                "[utility] baseline and let the auditor train one",
            )
        )
    return problems


def check_inputs(spec: AuditSpec, *, allow_code: bool = False) -> None:
    """AuditInputError listing every problem a run of `spec` would meet in its inputs."""
    problems: list[Problem] = []
    kind = KINDS[spec.artifact.kind]
    read = resolve(kind.read_inputs)(spec, allow_code, problems)
    if read is not None:
        features, n_classes = read
        problems += _baseline(spec, features, allow_code)
        data = _collect(problems, lambda: load_audit_data(spec.data, features, n_classes))
        if data is not None and kind.attribute_inference:
            problems += _attribute_gates(spec, data.encoding, data.multilabel)
    if spec.attacks.cache:
        problems += cache_problems()
    if problems:
        raise AuditInputError(problems)


def training_procedure(spec: AuditSpec, *, allow_code: bool = False) -> str:
    """How this audit's reference models will be trained, in words (`auditor validate`
    prints it; the result's `artifact.training` records what was done)."""
    from auditor.artifacts.formats import by_suffix

    artifact = spec.artifact
    if artifact.train is not None:
        return f"your training function {artifact.train}, once per reference model"
    if artifact.kind == "dataset" and artifact.generate is not None:
        return (
            f"your generator {artifact.generate}: {spec.attacks.shadow_releases} shadow "
            "releases for the attacks on the released records, and each consumer model's "
            "reference models trained on releases it makes"
        )
    if artifact.kind == "dataset":
        with contextlib.suppress(AuditInputError):
            released = load_dataset(artifact.path, label=spec.data.label, allow_code=allow_code)
            definition = RECIPES.get(spec.scheme or released.recipe)
            if definition is not None and not definition.rerunnable:
                return (
                    f"none: recipe {definition.name} ({definition.description}); attacks "
                    "that need reference or shadow runs do not run"
                )
    if artifact.kind != "model":
        return f"the auditor's recipes for a {artifact.kind} artifact"
    meta = inspect_model(
        artifact.path,
        architecture=artifact.architecture,
        allow_code=allow_code,
        trusted_functions=artifact.trusted_functions,
    )
    recipe = spec.scheme or meta.recipe
    fmt = by_suffix(artifact.path.suffix)
    carried = fmt is not None and fmt.procedure is not None
    if fmt is not None and carried and meta.raw_columns and recipe == "supervised":
        fits = ", ".join(fmt.procedure_fits)
        if fits:
            return f"read from the {fmt.name} file; its {fits} fitted at run time (not stored)"
        return f"read from the {fmt.name} file (exact)"
    params = dict(meta.recipe_params)
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if k not in meta.fit) or "defaults"
    if meta.fit:
        return (
            f"the auditor's {recipe} recipe ({shown}); {', '.join(meta.fit)} fitted on "
            "population records at run time (not declared)"
        )
    return f"the auditor's {recipe} recipe ({shown}), as the metadata states it"
