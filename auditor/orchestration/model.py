"""Audit of a model artifact (student model, DP model, any classifier): every membership
attack, attribute inference, model inversion, utility beside the real-records model, the
baselines and fairness. Weights artifacts reuse these steps (`auditor.orchestration.weights`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.artifacts.formats import FORMATS
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.models import LoadedModel, bind_raw, load_model
from auditor.attacks.inference.inversion import inversion_figures
from auditor.core.refs import resolve
from auditor.core.types import LogitsFn
from auditor.data.tables import AuditData, load_audit_data
from auditor.errors import AuditInputError, fail
from auditor.orchestration.baselines import baselines_section, real_records_model, utility_section
from auditor.orchestration.context import Audited, Run
from auditor.orchestration.dp_audit import dp_audit_problems, dp_audit_section
from auditor.orchestration.inputs import label_structure_problems
from auditor.orchestration.sections import attribute_section, fairness_section, membership_section
from auditor.orchestration.settings_fit import fit_procedure, fit_settings
from auditor.training.procedures import FittedProcedure
from auditor.training.recipes import Params, TrainParams, as_recipe, stored_params
from auditor.training.recipes.user import UserTraining


def load_target(run: Run) -> tuple[LoadedModel, AuditData]:
    """The artifact's model (the user's architecture and pickle decisions applied) and the
    audit data encoded for it; AuditInputError when they do not fit together."""
    run.stages.say("load")
    model = load_model(
        run.spec.artifact.path,
        architecture=run.architecture,
        allow_code=run.allow_code,
        trusted_functions=run.spec.artifact.trusted_functions,
    )
    problems = label_structure_problems(run.spec, model.metadata)
    if problems:
        raise AuditInputError(problems)
    data = load_audit_data(run.spec.data, model.metadata.features, model.metadata.n_classes)
    if data.raw is not None:
        model = bind_raw(model, data.raw)
    check_model_fits(model, data)
    return model, data


def recipe_parameters(meta: ArtifactMetadata, recipe: str, where: str) -> Params:
    """The metadata's recipe parameters, checked by their recipe (unknown keys are bad
    input), as the parameters of `recipe` (the spec's `[scheme] name` may differ)."""
    field = f"recipe.{meta.params_key}"
    stored = stored_params(
        meta.recipe, meta.recipe_params, legacy=meta.legacy_params, where=where, field=field
    )
    return as_recipe(stored, recipe)


def check_model_fits(model: LoadedModel, data: AuditData) -> None:
    """AuditInputError unless the model takes the encoded rows and returns one logit per
    class the metadata declares."""
    meta = model.metadata
    try:
        out = model.logits(data.test.x[:2])
    except Exception as exc:  # any runtime's shape error: report it as bad input
        raise fail(
            str(model.path),
            "n_features",
            f"the model cannot take the {meta.n_features} encoded features: "
            f"{str(exc).splitlines()[0][:200]}",
            "the metadata's feature encoding must produce the model's input width",
        ) from exc
    if out.ndim != 2 or out.shape[1] != meta.n_classes:
        raise fail(
            str(model.path),
            "n_classes",
            f"the model returns shape {out.shape[1:]} but the metadata declares "
            f"{meta.n_classes} classes",
            "fix n_classes in the metadata",
        )


def artifact_section(
    run: Run,
    model: LoadedModel,
    recipe: str,
    hp: Params | None = None,
    fitted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `artifact` part of a result for a model or weights artifact; `training` says
    how the reference and shadow models were trained (`fitted`: the settings fit's account)."""
    meta = model.metadata
    user = getattr(hp, "user", None)
    training = (
        {"procedure": user.procedure, **user.describe(), **(fitted or {})}
        if user is not None
        else {
            "procedure": f"auditor recipe {recipe}, its settings fitted (not declared)",
            "architecture": meta.architecture,
            "params": hp.to_dict() if hp is not None else {},
            **fitted,
        }
        if fitted is not None
        else {"procedure": f"auditor recipe {recipe}", "architecture": meta.architecture}
    )
    return {
        "training": training,
        "kind": run.spec.artifact.kind,
        "format": model.format,
        "file_name": model.path.name,
        "sha256": model.sha256,
        "scheme": recipe,
        "architecture": meta.architecture,
        "n_features": meta.n_features,
        "claims": dict(meta.claims),
    }


def privacy_sections(
    run: Run,
    model: LoadedModel,
    data: AuditData,
    recipe: str,
    hp: Params,
    base: LogitsFn | None = None,
    fitted: bool = False,
) -> dict[str, Any]:
    """Membership (every attack of the spec) and attribute inference against the model
    (`fitted`: part of the training procedure was fitted on the population records)."""
    meta = model.metadata
    membership = membership_section(
        run,
        data,
        recipe=recipe,
        hp=hp,
        target=model.logits,
        n_classes=meta.n_classes,
        delta=run.delta(meta.claims),
        base=base,
        fitted=fitted,
    )
    privacy: dict[str, Any] = {"membership": membership}
    inference = attribute_section(run, data, model.logits, meta.encoding, meta.n_classes)
    if inference:
        privacy["attribute_inference"] = inference
    return privacy


def utility_and_baselines(
    run: Run, model: LoadedModel, data: AuditData, hp: Params
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Utility beside the real-records model (same architecture and parameters as the
    artifact), then the baselines section."""
    meta = model.metadata
    run.stages.say("utility")
    real = real_records_model(
        run,
        data,
        meta.architecture,
        getattr(hp, "architecture_params", {}),
        getattr(hp, "user", None),
    )
    utility = utility_section(run, data, model.logits, real)
    run.stages.lap("utility")
    run.stages.say("baselines")
    delta = run.delta(meta.claims)
    baselines = baselines_section(run, data, real, utility, meta.n_classes, delta)
    run.stages.lap("baselines")
    return utility, baselines


def carried_procedure(
    run: Run, data: AuditData, hp: Params, model: LoadedModel
) -> UserTraining | FittedProcedure | None:
    """The training procedure the artifact carries (its format's `procedure`: a skops
    estimator's clone, a tree model's stored parameters), for a supervised model that
    reads raw columns; None otherwise (the auditor's recipe approximates the procedure)."""
    fmt = FORMATS.get(model.format)
    procedure = fmt.procedure if fmt is not None else None
    recipe = run.spec.scheme or model.metadata.recipe
    if procedure is None or data.raw is None or recipe != "supervised":
        return None
    if not isinstance(hp, TrainParams):
        return None
    artifact = run.spec.artifact
    found: UserTraining | FittedProcedure = resolve(procedure)(
        model.path,
        model.sha256,
        artifact.trusted_functions,
        data.raw,
        data.n_outputs,
        artifact.train_timeout,
    )
    return found


def artifact_procedure(run: Run, data: AuditData, hp: Params, model: LoadedModel) -> Params:
    """`hp` with the exact training procedure the artifact carries, if it carries one (one
    it states in part is fitted later: `fitted_settings`)."""
    found = carried_procedure(run, data, hp, model)
    if isinstance(found, UserTraining) and isinstance(hp, TrainParams):
        return replace(hp, user=found)
    return hp


def user_training(
    run: Run, data: AuditData, hp: Params, model: LoadedModel | None = None
) -> Params:
    """`hp` with the spec's own training function, if it names one (`[artifact] train`);
    else, given the `model`, with the procedure the artifact carries, if it has one."""
    name = run.spec.artifact.train
    if name is None:
        return hp if model is None else artifact_procedure(run, data, hp, model)
    if data.raw is None:
        raise fail(
            str(run.spec.path),
            "artifact.train",
            "needs a model that reads raw columns (metadata raw_columns): the function is "
            "fed the table's columns",
            "write the metadata with auditor init, or drop train",
        )
    if not isinstance(hp, TrainParams):  # the spec allows train for model artifacts only
        raise TypeError(f"{type(hp).__name__} take no training function")
    user = UserTraining.resolve(
        name, data.raw, str(run.spec.path), data.n_outputs, run.spec.artifact.train_timeout
    )
    return replace(hp, user=user)


def fitted_settings(
    run: Run, data: AuditData, hp: Params, model: LoadedModel
) -> tuple[Params, dict[str, Any] | None]:
    """`hp` with what the artifact does not state fitted on population records: the
    settings its metadata leaves to fit (`recipe.fit`), or the part of the procedure its
    file does not store; with the account of the fit. `hp` and None when nothing is."""
    fit = model.metadata.fit
    recipe = run.spec.scheme or model.metadata.recipe
    if run.spec.artifact.train is not None or not isinstance(hp, TrainParams):
        return hp, None
    if recipe != "supervised":  # the grid trains supervised models: no other recipe's
        return hp, None
    if hp.user is None and not fit:
        procedure = carried_procedure(run, data, hp, model)
        if isinstance(procedure, FittedProcedure):
            run.stages.say("fit training settings")
            fitted, account = fit_procedure(run, data, hp, procedure, model.logits)
            run.stages.lap("fit training settings")
            return fitted, account
    if not fit or hp.user is not None:
        return hp, None
    run.stages.say("fit training settings")
    fitted, account = fit_settings(run, data, hp, model.logits, fit)
    run.stages.lap("fit training settings")
    return fitted, account


def audit_model(run: Run) -> Audited:
    """Every stage of a model artifact's audit."""
    model, data = load_target(run)
    meta = model.metadata
    recipe = run.spec.scheme or meta.recipe
    hp = user_training(run, data, recipe_parameters(meta, recipe, str(model.path)), model)
    if run.spec.dp_audit.canaries:  # before any training: the recipe must be playable
        dp_audit_problems(recipe, hp, str(run.spec.path), run.spec.dp_audit.canaries)
    run.stages.lap("load")
    hp, fitted = fitted_settings(run, data, hp, model)
    privacy = privacy_sections(run, model, data, recipe, hp, fitted=fitted is not None)
    if run.spec.dp_audit.canaries:
        privacy["dp_audit"] = dp_audit_section(run, data, recipe, hp, meta.claims)
    run.stages.say("model inversion")
    privacy["inversion"] = (
        {"note": "multi-label model: inversion towards a label set is not implemented"}
        if data.multilabel
        else inversion_figures(
            model.module,
            data.members.x,
            data.non_members.x,
            data.population.x,
            seed=run.seeds.inversion,
            confidence=run.spec.attacks.confidence,
            n_classes=meta.n_classes,
            decode=meta.tensor.decode if meta.tensor and meta.tensor.kind == "image" else None,
        )
    )
    run.stages.lap("model inversion")
    utility, baselines = utility_and_baselines(run, model, data, hp)
    fairness = fairness_section(run, data, model.logits)
    return Audited(
        recipe,
        artifact_section(run, model, recipe, hp, fitted),
        data,
        privacy,
        utility,
        baselines,
        fairness,
    )
