"""Training settings a model file does not state (an ONNX or TorchScript MLP shows its
layers, not its optimiser), fitted before any reference model is trained.

Each setting of a small grid (`training.settings_grid`) trains a few reference models on
population records, as many as the target's members, and is scored by how far those
models sit from the target on the population records they never saw (`metrics.fidelity.
setting_distance`: the gap in mean statistic, in the target's standard deviations, and in
the logarithm of its spread). Members and non-members are never read, so the audit's own
fidelity check, on the non-members, stays independent of the choice. The chosen setting
trains every reference model of the audit; the result says it was fitted, with its fit
and every setting tried. The grid's statistics land in the cache like reference models.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from auditor.attacks.membership.lira import reference_statistics
from auditor.core.scores import logit_scaled_confidence
from auditor.core.types import LogitsFn
from auditor.data.tables import AuditData
from auditor.metrics.fidelity import reference_fidelity, setting_distance
from auditor.orchestration.context import Run
from auditor.training.cache import DiskCache, array_digest, content_key, default_dir
from auditor.training.ensembles import device_for
from auditor.training.executors import fork_map
from auditor.training.procedures import FittedProcedure
from auditor.training.recipes import RecipeInput, TrainParams
from auditor.training.references import model_seed, reference_subsets, train_shard
from auditor.training.settings_grid import SettingsGrid, grid_logits

GRID = SettingsGrid()
CPU = torch.device("cpu")  # a procedure read from a file trains on the CPU (trees)


def _splits(run: Run, data: AuditData, models: int) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Each fitting model's population rows (as many as the target's members), its seed,
    and (models, population) the records each is OUT of."""
    pop, seed = data.population, run.seeds.references
    subsets = reference_subsets(
        "offline", 0, pop.rows, models, np.random.default_rng([seed, 2]), data.members.rows
    )
    out = np.ones((models, pop.rows), dtype=bool)
    for j, rows in enumerate(subsets):
        out[j, rows] = False
    return subsets, [model_seed(seed, 100_000 + k) for k in range(models)], out


def _account(
    run: Run,
    target_stat: np.ndarray,
    stats: list[np.ndarray],
    out: np.ndarray,
    settings: list[dict[str, Any]],
) -> tuple[int, dict[str, Any]]:
    """The setting whose models sit closest to the target, and the account of the choice."""
    scored = [setting_distance(target_stat, s, out) for s in stats]
    best = int(np.argmin([s["distance"] for s in scored]))
    fidelity = reference_fidelity(
        target_stat,
        stats[best],
        np.ones(len(target_stat), dtype=bool),
        out,
        alpha=round(1 - run.spec.attacks.confidence, 6),
    )
    return best, {
        "settings": "fitted",
        "chosen": settings[best],
        "fit": {
            **{k: round(v, 4) for k, v in scored[best].items()},
            "p_value": fidelity["p_value"],
            "flagged": fidelity["flagged"],
        },
        "tried": [
            {**s, "distance": round(f["distance"], 4)}
            for s, f in zip(settings, scored, strict=True)
        ],
        "reference_models_per_setting": len(out),
        "records": len(target_stat),
    }


def fit_settings(
    run: Run,
    data: AuditData,
    hp: TrainParams,
    target: LogitsFn,
    fit: tuple[str, ...],
    grid: SettingsGrid = GRID,
) -> tuple[TrainParams, dict[str, Any]]:
    """`hp` with the settings in `fit` chosen from `grid`, and the account of the choice
    (the `training` entry of the result's artifact section)."""
    grid = grid.over(hp, fit)
    pop = data.population
    subsets, seeds, out = _splits(run, data, grid.models)
    device = device_for(run.spec.attacks.device)
    settings = grid.settings()
    key = content_key(
        {
            "settings_fit": grid.to_dict(),
            "params": hp.to_dict(),
            "data": array_digest(pop.x, pop.y),
            "subsets": array_digest(subsets),
            "seeds": seeds,
            "device": device.type,
            "torch": torch.__version__,
        }
    )
    cache = DiskCache(default_dir(), enabled=run.spec.attacks.cache)
    hit = cache.get(key)
    if hit is not None:
        stats = hit["statistics"]
    else:
        logits = grid_logits(hp, grid, pop.x, pop.y, data.n_outputs, subsets, seeds, pop.x, device)
        stats = np.stack([reference_statistics(logits[s], pop.y) for s in settings])
        cache.put(key, {"statistics": stats}, f"{len(settings)} training settings fitted")
    target_stat = logit_scaled_confidence(target(pop.x), pop.y)
    best, account = _account(run, target_stat, list(stats), out, [s.to_dict() for s in settings])
    return settings[best].apply(hp), {"fitted": list(fit), **account}


def fit_procedure(
    run: Run, data: AuditData, hp: TrainParams, procedure: FittedProcedure, target: LogitsFn
) -> tuple[TrainParams, dict[str, Any]]:
    """`hp` trained by the candidate of `procedure` whose models sit closest to the target
    (a tree model's learning rate, which its file does not store), and the account."""
    pop = data.population
    subsets, seeds, out = _splits(run, data, GRID.models)
    pool = RecipeInput(pop.x, pop.y, n_classes=data.n_outputs)
    cache = DiskCache(default_dir(), enabled=run.spec.attacks.cache)
    keys = [
        content_key(
            {
                "procedure_fit": user.describe(),
                "data": array_digest(pop.x, pop.y),
                "subsets": array_digest(subsets),
                "seeds": seeds,
            }
        )
        for _, user in procedure.candidates
    ]
    found: dict[int, np.ndarray] = {}
    for i, key in enumerate(keys):
        hit = cache.get(key)
        if hit is not None:
            found[i] = hit["statistics"]

    def train(i: int) -> np.ndarray:
        trained = replace(hp, user=procedure.candidates[i][1])
        logits = train_shard("supervised", trained, pool, subsets, seeds, pop.x, CPU)
        return reference_statistics(logits, pop.y)

    def done(i: int, statistics: np.ndarray) -> None:
        name = procedure.candidates[i][1].name
        cache.put(keys[i], {"statistics": statistics}, f"{name}: models to fit its settings")
        found[i] = statistics

    todo = [i for i in range(len(keys)) if i not in found]
    fork_map(train, todo, done)  # the candidates side by side (training.threads)
    stats = [found[i] for i in range(len(keys))]
    target_stat = logit_scaled_confidence(target(pop.x), pop.y)
    settings = [setting for setting, _ in procedure.candidates]
    best, account = _account(run, target_stat, stats, out, settings)
    chosen = procedure.candidates[best][1]
    return replace(hp, user=chosen), {
        "fitted": list(procedure.grid),
        "read": procedure.read,
        **account,
    }
