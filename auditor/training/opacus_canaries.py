"""White-box gradient canaries inside the hospital's own Opacus training loop.

While the user's training function (`[artifact] train`) runs, Opacus's `DPOptimizer` is
hooked, so that what the canary game audits is the user's Opacus version, noise multiplier,
clip norm, step count and noise generation, not a re-implementation of them:

- before each privatised step adds its noise (`DPOptimizer.add_noise`), each included canary
  is sampled at the step's sample rate (the rate the user's `PrivacyEngine` gives its
  accountant, times the optimiser's accumulated iterations) and, when sampled, adds one clip
  norm along its own parameter coordinate to the clipped, summed gradient: the largest
  contribution one clipped record can make;
- after the noise, the released gradient on each canary's coordinate, less the data's
  clipped sum there, is read in clip norms and scored with the log-likelihood ratio of
  "sampled canary + noise" against "noise" under the optimiser's own noise multiplier,
  summed over the steps (as `training.canaries.DiracCanaries` does for the auditor's DP-SGD).

What this sees: too little noise for the claim (a wrong noise multiplier, one set for
another sample rate or fewer epochs, noise of the wrong scale), more steps than accounted.
What it cannot see: the data sampler (canaries are sampled here, Poisson, at the accountant's
rate, whatever the user's loader does: a loader of fixed shuffled batches is invisible) and
per-sample clipping (canaries join after Opacus's clipping).

The patch is on the class, for the duration of one call of the user's function, in this
process only. Written here: Opacus accounts and privatises; it has no audit hook.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

NOT_OPACUS = (
    "your training function did not take a single step of an Opacus DPOptimizer, so there "
    "is no privatised gradient to observe"
)
NOT_OPACUS_HINT = (
    "train with opacus.PrivacyEngine (make_private or make_private_with_epsilon) inside "
    '[artifact] train, or use the black-box canaries: canaries = ["input", "ood"]'
)


class NotOpacus(ValueError):
    """The user's training function took no step of an Opacus DPOptimizer."""

    def __init__(self) -> None:
        super().__init__(NOT_OPACUS)


@dataclass
class OpacusObserver:
    """One run's canaries in the user's Opacus loop, and what the run's steps released.

    `included`: which of the m canaries this run includes (m = 0 only watches for Opacus).
    `records`: how many records the user's function was given (the sample-rate fallback
    when no PrivacyEngine accountant names the rate)."""

    included: np.ndarray
    seed: int
    records: int
    score: np.ndarray = field(init=False)
    steps: int = 0
    sample_rates: list[float] = field(default_factory=list)
    noise_multipliers: list[float] = field(default_factory=list)
    accountant: Any = None
    _slots: list[tuple[int, torch.Tensor, torch.Tensor]] | None = None
    _optimizer: int | None = None

    def __post_init__(self) -> None:
        self.score = np.zeros(len(self.included))
        self._rng = np.random.default_rng([self.seed, 1])

    @property
    def canaries(self) -> int:
        return len(self.included)

    def _place(self, params: list[torch.Tensor]) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
        """Canary i's parameter and flat coordinate: m distinct coordinates at random."""
        sizes = [p.numel() for p in params]
        total, m = sum(sizes), self.canaries
        if m > total:
            message = f"{m} gradient canaries need as many parameters; the model has {total}"
            raise ValueError(message)
        rng = np.random.default_rng([self.seed, 2])
        picks = np.sort(rng.choice(total, m, replace=False))
        owner = rng.permutation(m)
        slots, start = [], 0
        for index, size in enumerate(sizes):
            here = (picks >= start) & (picks < start + size)
            if here.any():
                device = params[index].device
                coords = torch.tensor(picks[here] - start, device=device)
                slots.append((index, coords, torch.tensor(owner[here], device=device)))
            start += size
        return slots

    def step_rate(self, optimizer: Any) -> float:
        """The sample rate of this step: the accountant's, else the expected batch over the
        records the function was given."""
        base = self.sample_rates[-1] if self.sample_rates else None
        if base is None:
            expected = getattr(optimizer, "expected_batch_size", None) or 0
            base = expected / max(self.records, 1)
        return float(min(1.0, base * getattr(optimizer, "accumulated_iterations", 1)))

    def before_noise(self, optimizer: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Add this step's sampled canaries to the clipped sums; returns the data's part on
        each slot's coordinates."""
        if self._optimizer is None:
            self._optimizer = id(optimizer)
        elif self._optimizer != id(optimizer):
            raise ValueError("the training function stepped two DPOptimizers; audit one at a time")
        self.steps += 1
        self.noise_multipliers.append(float(optimizer.noise_multiplier))
        if not self.canaries:
            return []
        params = list(optimizer.params)
        if self._slots is None:
            self._slots = self._place(params)
        rate = self.step_rate(optimizer)
        sampled = (self._rng.random(self.canaries) < rate) & self.included
        clip = float(optimizer.max_grad_norm)
        data = []
        for index, coords, owner in self._slots:
            flat = params[index].summed_grad.view(-1)
            data.append((flat[coords].detach().clone(), owner))
            add = torch.tensor(sampled, device=flat.device)[owner].to(flat.dtype) * clip
            flat[coords] += add
        return data

    def after_noise(self, optimizer: Any, data: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Score this step's release on every canary coordinate."""
        if not data:
            return
        params = list(optimizer.params)
        assert self._slots is not None
        clip = float(optimizer.max_grad_norm)
        sigma2 = max(float(optimizer.noise_multiplier), 1e-3) ** 2
        q = min(max(self.step_rate(optimizer), 1e-12), 1 - 1e-12)
        for (index, coords, owner), (part, _) in zip(self._slots, data, strict=True):
            released = params[index].grad.reshape(-1)[coords].detach()
            o = ((released - part) / clip).double().cpu().numpy()
            step = np.logaddexp(math.log1p(-q), math.log(q) + (o - 0.5) / sigma2)
            self.score[owner.cpu().numpy()] += step


@contextmanager
def observing_opacus(observer: OpacusObserver) -> Iterator[OpacusObserver]:
    """Opacus's `DPOptimizer.add_noise` and its accountants' step hooks patched to feed
    `observer` inside the block; restored after it, whatever happens inside."""
    from opacus.accountants.accountant import IAccountant
    from opacus.optimizers.optimizer import DPOptimizer

    original_noise = DPOptimizer.add_noise
    original_hook = IAccountant.get_optimizer_hook_fn

    def add_noise(self: Any) -> None:
        data = observer.before_noise(self)
        original_noise(self)
        observer.after_noise(self, data)

    def get_optimizer_hook_fn(self: Any, sample_rate: float) -> Any:
        observer.sample_rates.append(float(sample_rate))
        observer.accountant = self
        return original_hook(self, sample_rate)

    DPOptimizer.add_noise = add_noise
    IAccountant.get_optimizer_hook_fn = get_optimizer_hook_fn
    try:
        yield observer
    finally:
        DPOptimizer.add_noise = original_noise
        IAccountant.get_optimizer_hook_fn = original_hook


def accounted_epsilon(observer: OpacusObserver, delta: float) -> float | None:
    """Epsilon the user's own accountant reports after the run, at `delta` (None without)."""
    if observer.accountant is None:
        return None
    try:
        return float(observer.accountant.get_epsilon(delta))
    except Exception:  # an accountant with nothing recorded, or a custom one
        return None
