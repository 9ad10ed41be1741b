"""The crafted starting model of the black-box, last-iterate canary game (canary kind
`crafted`), after Annamalai and De Cristofaro (NeurIPS 2024): DP-SGD's guarantee holds
from any initial parameters, so the auditor may pick the start that makes the final model
most revealing, and query only that final model.

For the built-in MLP, the start gives each canary a hidden unit of its own:

- canary j is a made-up record far out along one encoded feature (+e_c or -e_c, so no two
  canaries share a direction): at `RADIUS` standard deviations, or four times the largest
  value any patient has in an encoded feature if that is further; its label is random;
- first-layer unit j has weights `SCALE` x that direction and a bias of minus half its
  pre-activation at the canary, so it fires for canary j and for no patient (who would
  need to lie half as far out along that feature) and for no other canary; later hidden
  layers pass unit j on (identity), unused units are dead;
- the output weights of unit j (`OUTPUT_WEIGHT` apart between its label and the others)
  start the canary as many logits on the wrong side of its label as unit j's activation
  (100 at the least radius), beyond the reach of the noise, so its loss gradient stays far
  above the clip norm all through training and every step that samples it moves it by
  exactly one clip norm. (Measured on SUPPORT2 at epsilon 8: a start 10 logits out, which
  noise carries across the label, or one ten times further out, read looser bounds.)

Patients then move only the output bias, and each canary's logit is, to first order, its
own clipped steps plus the noise that fell on its own unit: the final model releases one
Gaussian-mechanism observation per canary, as a white-box observer would see (no shared
parameters between canaries, whose updates would otherwise add to each other's noise).

Written here: ML Privacy Meter and ART audit no last-iterate game; the paper's code crafts
images for convolutional models, not tabular MLPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch

SCALE = 10.0  # first-layer weight along the canary's direction
RADIUS = 20.0  # the canaries' least distance from the centre, in standard deviations
OUTPUT_WEIGHT = 1.0  # per unit of activation: logits on the wrong side of the label


@dataclass(frozen=True)
class CraftedStart:
    """m crafted canaries and the one model every run starts from."""

    x: np.ndarray  # (m, d) float32, encoded
    y: np.ndarray  # (m,) labels, or (m, L) 0/1 label vectors
    params: dict[str, torch.Tensor]  # the MLP's parameters, by its own names


def crafted_capacity(hidden: tuple[int, ...], n_features: int) -> int:
    """How many crafted canaries one run holds: one per unit of the narrowest hidden layer,
    two per feature (its two directions)."""
    return min(min(hidden, default=0), 2 * n_features)


def craft_start(
    hidden: tuple[int, ...], n_features: int, labels: np.ndarray, n_outputs: int, reach: float
) -> CraftedStart:
    """The crafted start of an MLP with layers `hidden` for canaries labelled `labels`
    (their number is the canaries'), where no patient's encoded value exceeds `reach` in
    size; ValueError when the MLP cannot hold them."""
    m = len(labels)
    if m > crafted_capacity(hidden, n_features):
        raise ValueError(
            f"{m} crafted canaries need a hidden unit each and two per feature; this MLP "
            f"{tuple(hidden)} on {n_features} features holds "
            f"{crafted_capacity(hidden, n_features)}"
        )
    direction = np.zeros((m, n_features), dtype=np.float32)
    rows = np.arange(m)
    direction[rows, rows // 2] = np.where(rows % 2 == 0, 1.0, -1.0)
    radius = max(RADIUS, 4.0 * float(reach))
    h0 = SCALE * radius / 2  # unit j's activation at canary j
    params: dict[str, torch.Tensor] = {}
    w = torch.zeros(hidden[0], n_features)
    w[:m] = torch.from_numpy(SCALE * direction)
    params["net.0.weight"], params["net.0.bias"] = w, torch.full((hidden[0],), -h0)
    for i, (before, width) in enumerate(pairwise(hidden), start=1):
        w = torch.zeros(width, before)
        w[rows, rows] = 1.0
        bias = torch.full((width,), -h0)  # unused units: dead
        bias[:m] = 0.0
        params[f"net.{2 * i}.weight"], params[f"net.{2 * i}.bias"] = w, bias
    out = torch.zeros(n_outputs, hidden[-1])
    per_unit = OUTPUT_WEIGHT
    if labels.ndim == 2:  # multi-label: every label starts on its wrong side
        out[:, :m] = torch.from_numpy(-(2.0 * labels.T - 1.0) * per_unit / n_outputs).float()
    else:
        out[:, :m] = per_unit / 2
        out[labels, rows] = -per_unit / 2
    last = 2 * len(hidden)
    params[f"net.{last}.weight"], params[f"net.{last}.bias"] = out, torch.zeros(n_outputs)
    return CraftedStart(radius * direction, labels, params)


def start_ensemble(params: dict[str, torch.Tensor], start: CraftedStart) -> None:
    """Set every model of an ensemble's stacked parameters (K, ...) to the crafted start."""
    if set(params) != set(start.params):
        raise ValueError(
            "the crafted start is for the built-in MLP; this model has parameters "
            f"{sorted(params)[:4]}"
        )
    with torch.no_grad():
        for name, value in start.params.items():
            params[name].copy_(value.to(params[name]).expand_as(params[name]))
