"""Model inversion: reconstruct records from a differentiable model, then ask whether the
reconstructions sit closer to members than to non-members (only then do they leak).

Two reconstructions, for any torch model:
- ART's MIFace (Fredrikson et al. 2015): gradient descent on the input towards each class's
  confidence, started from the attacker's population records (wrapped in ART's
  PyTorchClassifier; GPU when available);
- gradient-based reconstruction: the stimuli synthesis (`training.recipes.stimuli`), started
  from noise, maximising the logit-scaled confidence with an L2 penalty.
Each is judged by `attacks.linkage.linkage_figures`: distance to the closest member against
the closest non-member, with the binomial interval and the permutation band.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.attacks.records.linkage import linkage_figures

RECONSTRUCTIONS_PER_CLASS = 100
# The gradient reconstruction's L2 weight: ten times weaker than the stimuli recipe's (0.5),
# so reconstructions may move further from the data's centre towards a member.
GRADIENT_L2 = 0.05


def miface(
    module: nn.Module, starts: np.ndarray, labels: np.ndarray, *, max_iter: int, n_classes: int
) -> np.ndarray:
    """ART's MIFace from `starts` towards `labels`; returns the reconstructions."""
    from art.attacks.inference.model_inversion import MIFace
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(
        model=module,
        loss=nn.CrossEntropyLoss(),
        input_shape=(starts.shape[1],),
        nb_classes=n_classes,
        device_type="gpu" if torch.cuda.is_available() else "cpu",
    )
    attack = MIFace(
        classifier,
        max_iter=max_iter,
        threshold=1.0,
        learning_rate=0.1,
        batch_size=len(starts),
        verbose=False,
    )
    return np.asarray(attack.infer(starts.astype(np.float32), labels), dtype=np.float32)


def class_pictures(
    recon: np.ndarray, labels: np.ndarray, decode: Callable[[np.ndarray], np.ndarray]
) -> dict[str, Any]:
    """One reconstruction per class (the first), in the data's raw scale, for the report's
    picture grid: reconstructions start from population records (MIFace) or noise (gradient)
    and are pushed towards the model's classes, so none is a member's record."""
    first = {int(c): int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)}
    raw = decode(recon[list(first.values())])
    return {
        "shape": list(raw.shape[1:]),
        "by_class": {
            str(c): [round(float(v), 4) for v in image.ravel()]
            for c, image in zip(first, raw, strict=True)
        },
    }


def inversion_figures(
    module: nn.Module | None,
    members: np.ndarray,
    non_members: np.ndarray,
    population: np.ndarray,
    *,
    seed: int,
    confidence: float,
    max_iter: int = 200,
    n_classes: int = 2,
    decode: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Linkage of each reconstruction method's output to members vs non-members: about
    2 x RECONSTRUCTIONS_PER_CLASS reconstructions, spread evenly over the classes."""
    if module is None:
        return {"note": "the artifact gives no gradients (not a torch model): not attempted"}
    rng = np.random.default_rng(seed)
    n = max(2 * RECONSTRUCTIONS_PER_CLASS // n_classes, 1)
    # Every class gets n starts; drawn with replacement only when the population is smaller.
    if len(population) >= n_classes * n:
        starts = population[rng.permutation(len(population))[: n_classes * n]]
    else:
        starts = population[rng.choice(len(population), n_classes * n)]
    labels = np.repeat(np.arange(n_classes), n)
    out: dict[str, Any] = {}
    with torch.enable_grad():
        recon = miface(module, starts, labels, max_iter=max_iter, n_classes=n_classes)
    out["miface"] = linkage_figures(recon, members, non_members, rng=rng, confidence=confidence)
    if decode is not None:
        out["miface"]["pictures"] = class_pictures(recon, labels, decode)
    from auditor.training.recipes.stimuli import StimuliParams, synthesize

    settings = StimuliParams(per_class=n, l2=GRADIENT_L2)
    with torch.enable_grad():
        recon, labels = synthesize(
            module, population, settings=settings, seed=seed, n_classes=n_classes
        )
    out["gradient"] = linkage_figures(recon, members, non_members, rng=rng, confidence=confidence)
    if decode is not None:
        out["gradient"]["pictures"] = class_pictures(recon, labels, decode)
    return out
