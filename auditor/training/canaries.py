"""The canary game of a DP audit: K runs of the `dp_sgd` recipe (one vectorised ensemble),
each with m canaries included independently with probability one half, and a score for
every canary (larger = more likely included).

Two kinds of canary:

- **gradient** (white box, Nasr et al. 2023's Dirac canaries): canary i is a record whose
  gradient is always `scale` times the clip norm along one coordinate of the parameters, a
  different coordinate for each canary. It goes through the same clipping as every record
  (`dp_ensembles.clip_factors`) and joins a batch like any record (Poisson sampling, the
  same rate). The auditor observes each step's privatised gradient on that coordinate, less
  the data's clipped sum (the threat model DP-SGD's accountant covers: every noisy update
  is released), and scores it with the log-likelihood ratio of "sampled canary + noise"
  against "noise" under the planned noise multiplier, summed over the steps. Only the
  score's power depends on that plan; the bound is sound whatever the implementation did.
- **input** (black box): canary i is a population record with a wrong label (binary: the
  other class; multi-class: another class drawn at random; multi-label: every label
  flipped), added to the training data of the runs that include it. Its score is the
  final model's logit-scaled confidence in that wrong label.
- **ood** (black box, out of distribution): canary i is a made-up record far from every
  patient (each encoded feature drawn from N(0, 1) times `OOD_SCALE`, in the standardised
  space, so several standard deviations out) with a random label, scored the same way.
- **crafted** (black box, last iterate; Annamalai and De Cristofaro 2024): every run starts
  from a crafted model in which each canary owns a hidden unit no patient activates
  (`training.crafted_start`); canaries are made-up records far out along one feature,
  scored like input ones. At most one canary per hidden unit of the narrowest layer.

Written here: no library plays this game on a vectorised ensemble (ML Privacy Meter trains
one model per audit; Opacus does not audit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from auditor.core.scores import logit_scaled_confidence
from auditor.core.types import CANARY_KINDS
from auditor.training.crafted_start import CraftedStart, craft_start, start_ensemble
from auditor.training.dp_ensembles import DPSchedule, clip_factors, fit_dp_ensemble
from auditor.training.ensembles import device_for, init_ensemble
from auditor.training.recipes.base import RecipeInput
from auditor.training.recipes.params import DPParams, TrainParams

CanaryKind = Literal["gradient", "input", "ood", "crafted"]  # as core.types.CANARY_KINDS
GRADIENT_SCALE = 10.0  # a canary's raw gradient norm in clip norms: clipping must cut it
OOD_SCALE = 4.0  # out-of-distribution canaries: features at about 4 standard deviations


@dataclass
class DiracCanaries:
    """m gradient canaries in each of K models, each on its own parameter coordinate."""

    included: torch.Tensor  # (K, m) bool
    slots: dict[str, tuple[torch.Tensor, torch.Tensor]]  # parameter -> (flat coords, canaries)
    shapes: dict[str, torch.Size]
    noise_multiplier: float  # the planned sigma: the likelihood ratio's model
    scale: float = GRADIENT_SCALE
    score: torch.Tensor = field(init=False)
    _rate: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        device = self.included.device
        self.score = torch.zeros(self.included.shape, dtype=torch.float64, device=device)

    def gradients(self, rate: float, clip: float, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """This step's clipped canary gradients, per parameter (K, *shape)."""
        self._rate = rate
        device = self.included.device
        sampled = (torch.rand(self.included.shape, generator=gen, device=device) < rate) & (
            self.included
        )
        raw = torch.full(self.included.shape, self.scale * clip, device=device)
        value = clip_factors(raw, clip) * raw * sampled
        out = {}
        for name, (coords, cols) in self.slots.items():
            flat = torch.zeros((len(value), self.shapes[name].numel()), device=device)
            flat[:, coords] = value[:, cols]
            out[name] = flat.view(len(value), *self.shapes[name])
        return out

    def observe(self, name: str, residual: torch.Tensor) -> None:
        """Add this step's log-likelihood ratio; `residual` is the privatised sum less the
        data's part, in clip norms (K, *shape)."""
        coords, cols = self.slots[name]
        o = residual.detach().flatten(1)[:, coords].double()
        sigma2 = max(self.noise_multiplier, 1e-3) ** 2
        q = min(max(self._rate, 1e-12), 1 - 1e-12)
        step = torch.logaddexp(torch.full_like(o, math.log1p(-q)), math.log(q) + (o - 0.5) / sigma2)
        self.score[:, cols] += step


@dataclass(frozen=True)
class CanaryGame:
    """Scores and inclusions of every canary in every run, with the runs' own accounting
    (None for a user's training function: the auditor does not know its accounting)."""

    kind: str
    scores: np.ndarray  # (K, m)
    included: np.ndarray  # (K, m) bool
    accounted_epsilon: float | None  # Opacus's RDP epsilon for one run of the game, at delta
    records: int  # training records of one run, canaries included
    # Whether the runs were DP-SGD (the auditor's, or Opacus steps seen in the user's code):
    # what licenses reading the game through the Gaussian trade-off (`metrics.gaussian_dp`).
    dp_sgd: bool = True


def _dirac(
    ens_params: dict[str, torch.Tensor], included: torch.Tensor, sigma: float, seed: int
) -> DiracCanaries:
    sizes = {n: p[0].numel() for n, p in ens_params.items()}
    total, m = sum(sizes.values()), included.shape[1]
    if m > total:
        raise ValueError(f"{m} gradient canaries need as many parameters; the model has {total}")
    picks = np.sort(np.random.default_rng(seed).choice(total, m, replace=False))
    slots, start = {}, 0
    device = included.device
    canary = np.random.default_rng(seed + 1).permutation(m)  # canary i's coordinate: random
    for name, size in sizes.items():
        here = (picks >= start) & (picks < start + size)
        if here.any():
            slots[name] = (
                torch.tensor(picks[here] - start, device=device),
                torch.tensor(canary[here], device=device),
            )
        start += size
    shapes = {n: p.shape[1:] for n, p in ens_params.items()}
    return DiracCanaries(included, slots, shapes, sigma)


def _wrong_labels(y: np.ndarray, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    if y.ndim == 2:
        return 1 - y
    return (y + 1 + rng.integers(0, max(n_classes - 1, 1), len(y))) % n_classes


def _random_labels(y: np.ndarray, n_classes: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if y.ndim == 2:
        return rng.integers(0, 2, (m, y.shape[1]))
    return rng.integers(0, n_classes, m)


def _input_canaries(
    kind: str, data: RecipeInput, pool: RecipeInput, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The records and labels of m input-space canaries (see the module docstring)."""
    if kind == "input":
        if m > len(pool.x):
            raise ValueError(f"{m} input canaries need as many pool records")
        return pool.x[:m], _wrong_labels(pool.y[:m], data.n_classes, rng)
    x = rng.normal(0.0, OOD_SCALE, (m, data.x.shape[1])).astype(np.float32)
    return x, _random_labels(data.y, data.n_classes, m, rng)


def _crafted(
    hp: TrainParams, data: RecipeInput, pool: RecipeInput, m: int, rng: np.random.Generator
) -> CraftedStart:
    """The crafted start for m canaries of the recipe's own MLP (`training.crafted_start`),
    out of reach of every member and population record."""
    if hp.user is not None or hp.architecture != "mlp":
        raise ValueError(
            "crafted canaries start the runs from a crafted MLP: only the dp_sgd recipe's "
            "built-in MLP can be started so (a training function builds its own model)"
        )
    labels = _random_labels(data.y, data.n_classes, m, rng)
    outputs = data.y.shape[1] if data.y.ndim == 2 else data.n_classes
    reach = max(float(np.abs(data.x).max(initial=0.0)), float(np.abs(pool.x).max(initial=0.0)))
    return craft_start(tuple(hp.hidden), data.x.shape[1], labels, outputs, reach)


def _user_game(
    hp: TrainParams,
    x: np.ndarray,
    y: np.ndarray,
    n_base: int,
    included: np.ndarray,
    seeds: list,
    delta: float,
) -> tuple[np.ndarray, bool, float | None]:
    """The game over the user's own training function, one run after another (black box):
    each run trains on the base records and the canaries it includes; every canary is scored
    on the model it returns. Opacus is watched meanwhile (no canary inserted): whether the
    runs were DP-SGD, and what the user's accountant said of the last one."""
    from auditor.artifacts.query import logits_fn
    from auditor.training.opacus_canaries import (
        OpacusObserver,
        accounted_epsilon,
        observing_opacus,
    )

    assert hp.user is not None
    scores = np.empty(included.shape)
    dp_sgd, accounted = True, None
    for k, seed in enumerate(seeds):
        keep = np.r_[np.ones(n_base, dtype=bool), included[k]]
        watch = OpacusObserver(np.zeros(0, dtype=bool), seed, int(keep.sum()))
        with observing_opacus(watch):
            model = hp.user.fit(x[keep], y[keep], seed)
        dp_sgd &= watch.steps > 0
        accounted = accounted_epsilon(watch, delta)
        scores[k] = logit_scaled_confidence(logits_fn(model)(x[n_base:]), y[n_base:])
    return scores, dp_sgd, accounted


def _user_gradient_game(
    hp: TrainParams, data: RecipeInput, included: np.ndarray, seeds: list, delta: float
) -> tuple[np.ndarray, float | None]:
    """White-box gradient canaries in the user's own Opacus loop, one run after another
    (`training.opacus_canaries`); NotOpacus when a run took no DPOptimizer step."""
    from auditor.training.opacus_canaries import (
        NotOpacus,
        OpacusObserver,
        accounted_epsilon,
        observing_opacus,
    )

    assert hp.user is not None
    scores = np.empty(included.shape)
    accounted = None
    for k, seed in enumerate(seeds):
        observer = OpacusObserver(included[k], seed, len(data.x))
        with observing_opacus(observer):
            hp.user.fit(data.x, data.y, seed)
        if observer.steps == 0:
            raise NotOpacus()
        scores[k] = observer.score
        accounted = accounted_epsilon(observer, delta)
    return scores, accounted


def play_canary_game(
    kind: CanaryKind,
    hp: DPParams | TrainParams,
    data: RecipeInput,
    pool: RecipeInput,
    *,
    runs: int,
    canaries: int,
    seed: int,
    device: str = "auto",
    delta: float = 1e-5,
) -> CanaryGame:
    """K = `runs` models of `hp` trained on `data` (every run) plus the canaries each run
    includes; input canaries are the first `canaries` records of `pool`, relabelled; ood
    canaries are drawn from `rng`. With a user training function (`hp.user`), its own code
    trains each run; gradient canaries then go into its Opacus optimiser
    (`training.opacus_canaries`), and `delta` is where its accountant is read."""
    if kind not in CANARY_KINDS:
        raise ValueError(f"unknown canary kind {kind!r}: use one of {', '.join(CANARY_KINDS)}")
    rng = np.random.default_rng(seed)
    included = rng.random((runs, canaries)) < 0.5
    dev = device_for(device)
    x, y = data.x, data.y
    present, start = None, None
    if kind == "crafted":
        start = _crafted(hp, data, pool, canaries, rng)
        canary_x, canary_y = start.x, start.y
    elif kind != "gradient":
        canary_x, canary_y = _input_canaries(kind, data, pool, canaries, rng)
    if kind != "gradient":
        x = np.concatenate([x, canary_x]).astype(np.float32)
        y = np.concatenate([y, canary_y])
        present = np.concatenate([np.ones((runs, len(data.x)), bool), included], axis=1)
    n = len(x)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, runs)]
    if hp.user is not None:
        if kind == "gradient":
            scores, accounted = _user_gradient_game(hp, data, included, seeds, delta)
            return CanaryGame(kind, scores, included, accounted, len(data.x))
        scores, dp_sgd, accounted = _user_game(hp, x, y, len(data.x), included, seeds, delta)
        return CanaryGame(kind, scores, included, accounted, n, dp_sgd=dp_sgd)
    if not isinstance(hp, DPParams):
        raise ValueError("the canary game re-runs the dp_sgd recipe or a user training function")
    schedule = DPSchedule.for_records(n, hp)
    ens = init_ensemble(hp, x.shape[1], data.n_classes, seeds, dev)
    if start is not None:
        start_ensemble(ens.params, start)
    dirac = None
    if kind == "gradient":
        inc = torch.tensor(included, device=dev)
        dirac = _dirac(ens.params, inc, schedule.noise_multiplier, seed + 7)
    subsets = np.tile(np.arange(n), (runs, 1))
    fit_dp_ensemble(ens, x, y, subsets, hp, seed + 11, present=present, canaries=dirac)
    if dirac is not None:
        scores = dirac.score.cpu().numpy()
    else:
        logits = ens.logits(x[len(data.x) :])  # (K, m, C)
        labels = y[len(data.x) :]
        scores = np.stack([logit_scaled_confidence(lk, labels) for lk in logits])
    return CanaryGame(
        kind=kind,
        scores=scores,
        included=included,
        accounted_epsilon=schedule.epsilon(hp),
        records=n,
    )
