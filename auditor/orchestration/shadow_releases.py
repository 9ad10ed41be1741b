"""Shadow releases of a dataset artifact made by the user's own generator (`[artifact]
generate`), and the membership attacks that read the released table against them
(`attacks.records.shadow_releases`).

Design: the candidates (members, then non-members) and the population's first half form
the pool; in each of K shadow releases every candidate is present in exactly half (a
balanced design, as online reference models), topped up with population records to the
members' number where that half is smaller; the generator makes a release from each pool
with its own seed. The population's second half is the yardstick the release features
are calibrated on, for the target release and every shadow alike, so that no release has
copied its own yardstick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from auditor.artifacts.datasets import LoadedDataset
from auditor.attacks.records.shadow_releases import (
    SHADOW_ATTACKS,
    release_features,
    shadow_release_scores,
)
from auditor.data.tables import AuditData
from auditor.metrics.exposure import EXPOSURE_FPR, exposed_records
from auditor.orchestration.context import Run
from auditor.orchestration.reliability import attack_warnings
from auditor.orchestration.sections import scored_figures
from auditor.training.cache import DiskCache, array_digest, content_key, default_dir
from auditor.training.user_generator import UserGenerator


def _shadow_releases(
    run: Run,
    released: LoadedDataset,
    data: AuditData,
    generator: UserGenerator,
    present: np.ndarray,
    seeds: np.ndarray,
    fill: np.ndarray,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """The K shadow releases, encoded: from the cache when this generator (by its source's
    hash) made them from these records with these seeds before, else made and stored."""
    candidates = np.concatenate([data.members.x, data.non_members.x])
    key = content_key(
        {
            "kind": "shadow_releases",
            "generator": generator.describe(),
            "records": array_digest(candidates, data.population.x, present, seeds, fill),
            "encoding": released.encoding.to_dict(),
            "members": data.members.rows,
            "stream": run.seeds.shadow_releases,
        }
    )
    cache = DiskCache(default_dir(), enabled=run.spec.attacks.cache)
    stored = cache.get(key)
    if stored is not None:
        return [stored[f"release_{j}"] for j in range(len(seeds))]
    pool_x = np.concatenate([candidates, data.population.x])
    pool_y = np.concatenate([data.members.y, data.non_members.y, data.population.y])
    n, made = len(candidates), []
    for j in range(len(seeds)):
        rows = np.flatnonzero(present[j])
        short = max(0, data.members.rows - len(rows))
        pool = np.r_[rows, n + fill[rng.permutation(len(fill))[:short]]]
        x, _ = generator.release_encoded(pool_x[pool], pool_y[pool], int(seeds[j]))
        made.append(x)
    description = f"{len(seeds)} shadow releases by {generator.name}"
    cache.put(key, {f"release_{j}": x for j, x in enumerate(made)}, description)
    return made


def shadow_release_membership(
    run: Run,
    released: LoadedDataset,
    data: AuditData,
    generator: UserGenerator,
    delta: float,
    selection: int,
) -> dict[str, Any]:
    """`privacy.membership` entries of the shadow-release attacks, each with the members
    it exposes; `selection`: how many attacks the report compares them with."""
    spec, stages = run.spec, run.stages
    rng = np.random.default_rng(run.seeds.shadow_releases)
    candidates = np.concatenate([data.members.x, data.non_members.x])
    n = len(candidates)
    is_member = np.r_[np.ones(data.members.rows, bool), np.zeros(data.non_members.rows, bool)]
    order = rng.permutation(data.population.rows)
    fill, yardstick = np.array_split(order, 2)
    yard_x = data.population.x[yardstick]
    k = spec.attacks.shadow_releases
    present = rng.random((k, n)).argsort(axis=0) < k // 2  # each candidate in k // 2
    seeds = rng.integers(0, 2**31 - 1, k)
    stages.say("shadow releases")
    made = _shadow_releases(run, released, data, generator, present, seeds, fill, rng)
    shadows = np.empty((k, n, 2))
    for j, shadow_x in enumerate(made):
        shadows[j] = release_features(shadow_x, candidates, yard_x, int(seeds[j]))
    target = release_features(released.x, candidates, yard_x, int(seeds[0]))
    stages.lap("shadow releases")
    scores = shadow_release_scores(target, shadows, present, int(seeds[0]))
    out = {}
    for i, (name, attack) in enumerate(SHADOW_ATTACKS.items()):
        stages.say(f"attack {name}")
        entry = {
            "title": f"{attack.title} ({k} releases by {generator.name})",
            "description": attack.description,
            **scored_figures(run, data, scores[name], delta, stream=2000 + i, selection=selection),
            "exposed": exposed_records(
                scores[name], is_member, fpr=EXPOSURE_FPR, confidence=spec.attacks.confidence
            ),
        }
        entry["warnings"] = attack_warnings(entry)
        out[name] = entry
        stages.lap(f"attack {name}")
    return out
