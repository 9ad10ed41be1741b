"""The DP audit of a model (`[dp_audit]`): the artifact's DP-SGD recipe re-run as a canary
game, and its claimed epsilon set beside the bounds the game supports.

The game trains on the members (the artifact's own training records), so that every run is
the artifact's training with canaries added; input canaries are population records with a
wrong label. `auditor.training.canaries` plays it, `auditor.metrics.dp_audit` bounds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.data.tables import AuditData
from auditor.errors import AuditInputError, fail
from auditor.orchestration.context import Run
from auditor.training.crafted_start import crafted_capacity
from auditor.training.opacus_canaries import NOT_OPACUS, NOT_OPACUS_HINT, NotOpacus
from auditor.training.recipes import Params
from auditor.training.recipes.base import RecipeInput
from auditor.training.recipes.params import DPParams

WHAT_IT_PROVES = (
    "A lower bound above the claimed epsilon proves, at the stated confidence, that the "
    "training code does not give the privacy it claims. A bound below the claim proves "
    "nothing about the claim: it says only that these canaries, in these runs, could not "
    "show more leakage; DP's guarantee covers every record and every attacker, and a "
    "stronger attack may come closer to it."
)
GAUSSIAN_ASSUMPTION = (
    "The f-DP one-run bound and the Gaussian-DP estimate read the canaries through the "
    "trade-off curve of the Gaussian mechanism, which DP-SGD approaches over many steps "
    "(Dong, Roth and Su 2019); they are far tighter, but only as right as that shape. The "
    "one-run and many-runs (epsilon, delta) bounds assume nothing about it."
)
THREAT_MODELS = {
    "gradient": (
        "white box: every step's privatised gradient is observed (the updates DP-SGD's "
        "accountant covers); Dirac canaries of 10 clip norms, clipped like any record (in "
        "your own Opacus loop: one clip norm added to the clipped sum before its noise)"
    ),
    "input": (
        "black box: only the final model is queried; canaries are population records with "
        "a wrong label, scored by the model's confidence in that label"
    ),
    "ood": (
        "black box: only the final model is queried; canaries are made-up records about 4 "
        "standard deviations from every patient with a random label, scored like input ones"
    ),
    "crafted": (
        "black box, last iterate: only the final model is queried, but every run starts "
        "from a model the auditor crafted (DP holds from any start; Annamalai and De "
        "Cristofaro 2024), in which each canary, a made-up record 20 standard deviations "
        "out along one feature, owns a hidden unit that no patient activates"
    ),
}


def dp_audit_stage(runs: int, kind: str) -> str:
    """The progress stage of one canary kind's game."""
    return f"DP audit: {runs} runs, {kind} canaries"


def dp_audit_problems(recipe: str, hp: Params, where: str, kinds: tuple[str, ...] = ()) -> None:
    """AuditInputError when the artifact's training cannot be played as a canary game: the
    auditor's DP-SGD (recipe dp_sgd) takes every canary kind, the user's own training
    function (`[artifact] train`) every kind but `crafted` (gradient canaries in the user's
    code need it to train with Opacus's DPOptimizer, which the game checks as it runs)."""
    if getattr(hp, "user", None) is not None:
        if "crafted" in kinds:
            raise fail(
                where,
                "dp_audit.canaries",
                "crafted canaries start every run from a model the auditor crafted, and "
                "your training function ([artifact] train) builds its own model",
                'use canaries = ["gradient"] (white box, in your Opacus optimiser), or '
                '"input" and "ood" (black box)',
            )
        return  # gradient canaries need Opacus inside it: checked as the first run trains
    if recipe != "dp_sgd" or not isinstance(hp, DPParams):
        raise fail(
            where,
            "dp_audit.canaries",
            f"the DP audit re-runs the dp_sgd recipe; this artifact's recipe is {recipe}",
            'audit a DP-SGD model, set [scheme] name = "dp_sgd" if it was trained so, or '
            "name your training code ([artifact] train) for input and ood canaries",
        )


def dp_audit_section(
    run: Run, data: AuditData, recipe: str, hp: Params, claims: Mapping[str, float]
) -> dict[str, Any]:
    """`privacy.dp_audit`: for each canary kind, both bounds with their tightness and the
    bound against the number of runs; the claim beside them."""
    from auditor.metrics.dp_audit import dp_audit_bounds
    from auditor.training.canaries import play_canary_game

    settings = run.spec.dp_audit
    dp_audit_problems(recipe, hp, str(run.spec.path), settings.canaries)
    claimed = claims.get("epsilon")
    delta = run.delta(claims)
    confidence = run.spec.attacks.confidence
    base = RecipeInput(data.members.x, data.members.y, n_classes=data.n_outputs)
    pool = RecipeInput(data.population.x, data.population.y, n_classes=data.n_outputs)
    kinds, accounted = {}, None
    for i, kind in enumerate(settings.canaries):
        stage = dp_audit_stage(settings.runs, kind)
        run.stages.say(stage)
        per_run = settings.per_run
        if kind == "input" and per_run > pool.x.shape[0]:
            per_run = pool.x.shape[0]  # one canary per population record at most
        if kind == "crafted" and isinstance(hp, DPParams):  # one per hidden unit at most
            per_run = min(per_run, crafted_capacity(tuple(hp.hidden), base.x.shape[1]))
        try:
            game = play_canary_game(
                kind,  # type: ignore[arg-type]
                hp,  # type: ignore[arg-type]
                base,
                pool,
                runs=settings.runs,
                canaries=per_run,
                seed=run.seeds.dp_audit + 1000 * i,
                device=run.spec.attacks.device,
                delta=delta,
            )
        except AuditInputError:  # the user's training code failed: its own message
            raise
        except NotOpacus as exc:
            raise fail(
                str(run.spec.path), "dp_audit.canaries", NOT_OPACUS, NOT_OPACUS_HINT
            ) from exc
        except ValueError as exc:  # more gradient canaries than the model has parameters
            raise fail(
                str(run.spec.path), "dp_audit.per_run", str(exc), "use fewer canaries per run"
            ) from exc
        bounds = dp_audit_bounds(
            game.scores,
            game.included,
            delta=delta,
            confidence=confidence,
            seed=run.seeds.dp_audit + 1000 * i + 1,
            claimed=claimed,
            # DP-SGD (the auditor's, or Opacus seen in the user's code): its Gaussian limit.
            family="gaussian" if game.dp_sgd else "approximate_dp",
            standardise=kind != "gradient",  # black box: each canary calibrated on the runs
        )
        kinds[kind] = {
            **bounds,
            "threat_model": THREAT_MODELS[kind],
            "canaries_per_run": per_run,
            "records_per_run": game.records,
        }
        accounted = game.accounted_epsilon  # the user's own accountant, if it has one
        run.stages.lap(stage)
    refuted = [k for k, v in kinds.items() if v["claim_refuted"]]
    plain = [k for k, v in kinds.items() if v["refuted_without_assumption"]]
    return {
        "claimed": {"epsilon": claimed, "delta": claims.get("delta")},
        "accounted_epsilon": accounted,
        "delta": delta,
        "runs": settings.runs,
        "confidence": confidence,
        "kinds": kinds,
        "claim_refuted": None if claimed is None else bool(refuted),
        "refuted_by": refuted,
        # Refuted by the bounds that hold for any (epsilon, delta)-DP mechanism, not only
        # by those that assume DP-SGD's Gaussian trade-off.
        "refuted_without_assumption": None if claimed is None else bool(plain),
        "assumption": GAUSSIAN_ASSUMPTION,
        # Every bound of every kind, each at `confidence`: the verdict's (Bonferroni).
        "verdict_confidence": round(
            1.0 - sum(1.0 - v["verdict_confidence"] for v in kinds.values()), 6
        ),
        "what_it_proves": WHAT_IT_PROVES,
    }
