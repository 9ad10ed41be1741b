"""The `stimuli` recipe: synthetic inputs that excite a trained network's units.

Neuronal excitation: starting from noise, gradient ascent on the input maximises one output
unit's logit-scaled confidence, with an L2 penalty that keeps stimuli near the data's
centre (features are standardised). The stimuli act as a pseudo-generative model: a third
party trains its own classifier on them. With `inhibit_identity > 0`, stimuli are also
pushed away from every individual patient in the network's hidden representation: the
penalty is a soft maximum of the cosine similarity to each member's representation, i.e.
the score a nearest-neighbour identity probe would use. Written here: no library
synthesises stimuli for tabular networks.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from auditor.artifacts.architectures import MLP
from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import StimuliParams


def _hidden(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The first hidden layer's activations of a built-in MLP (what the probe sees)."""
    out: torch.Tensor = torch.relu(model.get_submodule("net.0")(x))
    return out


def synthesize(
    model: nn.Module,
    members_x: np.ndarray,
    *,
    settings: StimuliParams,
    seed: int,
    n_classes: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` stimuli for each output unit of `model` (any torch model taking rows as
    wide as `members_x`'s; identity inhibition needs the built-in MLP with a hidden layer);
    returns (x, y)."""
    if settings.inhibit_identity > 0 and (not isinstance(model, MLP) or len(model.net) < 3):
        raise ValueError("identity inhibition needs the built-in MLP with a hidden layer")
    gen = torch.Generator().manual_seed(seed)
    d = members_x.shape[1]
    x = torch.randn(settings.per_class * n_classes, d, generator=gen).requires_grad_(True)
    y = torch.arange(n_classes).repeat_interleave(settings.per_class)
    for p in model.parameters():
        p.requires_grad_(False)
    members = None
    if settings.inhibit_identity > 0:
        with torch.no_grad():
            members = nn.functional.normalize(_hidden(model, torch.tensor(members_x)), dim=1)
    opt = torch.optim.Adam([x], lr=settings.lr)
    for _ in range(settings.iterations):
        logits = model(x)
        own = logits.gather(1, y[:, None])[:, 0]
        others = logits.masked_fill(nn.functional.one_hot(y, n_classes).bool(), -torch.inf)
        excitation = own - torch.logsumexp(others, dim=1)
        loss = -excitation.mean() + settings.l2 * x.pow(2).sum(dim=1).mean()
        if members is not None:
            h = nn.functional.normalize(_hidden(model, x), dim=1)
            similarity = h @ members.T / settings.temperature
            probe = settings.temperature * torch.logsumexp(similarity, dim=1)
            loss = loss + settings.inhibit_identity * probe.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in model.parameters():
        p.requires_grad_(True)
    return x.detach().numpy().astype(np.float32), y.numpy().astype(np.int64)


def release(data: RecipeInput, params: StimuliParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A teacher (`params.teacher`) trained on the records, then its stimuli: what the
    scheme releases."""
    teacher_data = RecipeInput(data.x, data.y, n_classes=data.n_classes)
    teacher = supervised.train(teacher_data, params.teacher, seed).model
    return synthesize(teacher, data.x, settings=params, seed=seed + 1, n_classes=data.n_classes)


def train(data: RecipeInput, params: StimuliParams, seed: int) -> Trained:
    """The release as a third party meets it: the stimuli, then the consumer's model
    (`params.consumer`) trained on them only."""
    x, y = release(data, params, seed)
    return supervised.train(RecipeInput(x, y, n_classes=data.n_classes), params.consumer, seed + 7)
