"""The `condense` recipe (dataset condensation): a few learned samples per class.

Distribution matching (Zhao & Bilen, WACV 2023): the synthetic samples of each class are
optimised so that, under many randomly initialised embedding networks, their mean
embedding matches the mean embedding of the real records of that class. Written here
because no maintained library condenses tabular data; the method is a few lines of torch.
Samples start from randomly chosen real records of their class (the published practice,
and the reason an audit must test the "irreversibly conceals" claim) or from noise.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import CondenseParams


def random_embedding(d: int, width: int, gen: torch.Generator) -> nn.Sequential:
    """A frozen embedding network (Linear, ReLU, Linear) seeded from `gen`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        net = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, width))
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def condense(
    x: np.ndarray, y: np.ndarray, *, settings: CondenseParams, seed: int, n_classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Condense (x, y) to `per_class` samples of each class; returns (x_syn, y_syn)."""
    gen = torch.Generator().manual_seed(seed)
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    by_class = [torch.nonzero(yt == c).flatten() for c in range(n_classes)]
    if any(len(rows) == 0 for rows in by_class):
        raise ValueError("condense needs records of every class")
    starts = []
    for rows in by_class:
        if settings.init == "real":
            pick = rows[torch.randint(0, len(rows), (settings.per_class,), generator=gen)]
            starts.append(xt[pick].clone())
        else:
            starts.append(torch.randn(settings.per_class, x.shape[1], generator=gen))
    syn = torch.cat(starts).requires_grad_(True)
    syn_y = torch.arange(n_classes).repeat_interleave(settings.per_class)
    opt = torch.optim.Adam([syn], lr=settings.lr)
    for _ in range(settings.iterations):
        embed = random_embedding(x.shape[1], settings.embed_width, gen)
        loss = torch.zeros(())
        for c, rows in enumerate(by_class):
            batch = rows[torch.randint(0, len(rows), (settings.real_batch,), generator=gen)]
            real_mean = embed(xt[batch]).mean(dim=0)
            syn_mean = embed(syn[syn_y == c]).mean(dim=0)
            loss = loss + (real_mean - syn_mean).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return syn.detach().numpy().astype(np.float32), syn_y.numpy().astype(np.int64)


def release(data: RecipeInput, params: CondenseParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The condensed samples and their labels: what the scheme releases."""
    return condense(data.x, data.y, settings=params, seed=seed, n_classes=data.n_classes)


def train(data: RecipeInput, params: CondenseParams, seed: int) -> Trained:
    """The release as a third party meets it: the condensed samples, then the consumer's
    model (`params.consumer`) trained on them only."""
    x, y = release(data, params, seed)
    return supervised.train(RecipeInput(x, y, n_classes=data.n_classes), params.consumer, seed + 7)
