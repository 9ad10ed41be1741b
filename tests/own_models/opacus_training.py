"""A hospital's own DP-SGD training code with Opacus, as a user would write it, and the
integration bugs such code has (named in specs as `own_models.opacus_training:<function>`).

Every function trains the same MLP (numeric columns standardised inside the model, two
hidden layers of 64) with Opacus's PrivacyEngine for `EPOCHS` epochs at batch `BATCH`, and
means to give (`EPSILON`, `DELTA`)-DP:

- `dp_mlp`: correct (`make_private_with_epsilon`);
- `tenth_noise`: a tenth of the noise the claim needs (the noise multiplier divided by ten
  after `make_private_with_epsilon`, as a "utility fix" would);
- `noise_for_fewer_epochs`: the noise multiplier computed for a quarter of the epochs it
  trains;
- `noise_for_smaller_rate`: the noise multiplier computed for a quarter of the sample rate
  its loader uses;
- `shuffled_batches`: Opacus's noise for Poisson sampling, but fixed shuffled batches
  (`poisson_sampling=False`), which the accountant does not cover;
- `batch_norm`: BatchNorm in the model, which mixes records within a batch (Opacus refuses
  such a model);
- `per_batch_clipping`: the DP-SGD formula by hand around Opacus's accountant, clipping the
  batch's mean gradient instead of each record's (no DPOptimizer).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from own_models.torch_mlp import Standardised

EPSILON, DELTA = 1.0, 1e-5
EPOCHS, BATCH, LR, CLIP = 8, 64, 0.05, 1.0


def _setup(
    records: pd.DataFrame, labels: pd.Series, seed: int, norm: bool = False
) -> tuple[nn.Module, torch.optim.Optimizer, torch.utils.data.DataLoader]:
    torch.manual_seed(seed)
    x = records.to_numpy(dtype=np.float32)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    width = x.shape[1]
    layers: list[nn.Module] = [nn.Linear(width, 64)]
    if norm:
        layers.append(nn.BatchNorm1d(64))
    layers += [nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)]
    model = Standardised(mean, std, nn.Sequential(*layers))
    data = torch.utils.data.TensorDataset(
        torch.tensor(x), torch.tensor(labels.to_numpy(), dtype=torch.long)
    )
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True)
    return model, torch.optim.SGD(model.parameters(), lr=LR), loader


def _train(model: nn.Module, optimizer: torch.optim.Optimizer, loader: object) -> nn.Module:
    model.train()
    for _ in range(EPOCHS):
        for xb, yb in loader:  # type: ignore[attr-defined]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            optimizer.step()
    return model.eval()


def _engine(seed: int) -> object:
    from opacus import PrivacyEngine

    return PrivacyEngine(secure_mode=False)


def _with_epsilon(
    model: nn.Module, optimizer: torch.optim.Optimizer, loader: object, seed: int
) -> tuple[nn.Module, torch.optim.Optimizer, object]:
    """Opacus's engine set for (EPSILON, DELTA) over EPOCHS epochs, clip norm CLIP."""
    return _engine(seed).make_private_with_epsilon(  # type: ignore[attr-defined,no-any-return]
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        target_epsilon=EPSILON,
        target_delta=DELTA,
        epochs=EPOCHS,
        max_grad_norm=CLIP,
    )


def _quiet(function: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Opacus's and torch's warnings about its hooks and secure mode left out, as a user
    running this loop would ignore them."""

    @functools.wraps(function)
    def quiet(*args: Any, **kwargs: Any) -> nn.Module:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            return function(*args, **kwargs)

    return quiet


@_quiet
def dp_mlp(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """Correct DP-SGD for (EPSILON, DELTA) over EPOCHS epochs."""
    model, optimizer, loader = _setup(records, labels, seed)
    model, optimizer, loader = _with_epsilon(model, optimizer, loader, seed)
    return _train(model, optimizer, loader)


@_quiet
def tenth_noise(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """The claim's noise multiplier divided by ten after the engine set it."""
    model, optimizer, loader = _setup(records, labels, seed)
    model, optimizer, loader = _with_epsilon(model, optimizer, loader, seed)
    optimizer.noise_multiplier /= 10
    return _train(model, optimizer, loader)


def _made_private(
    records: pd.DataFrame, labels: pd.Series, seed: int, sigma: float, poisson: bool = True
) -> nn.Module:
    model, optimizer, loader = _setup(records, labels, seed)
    model, optimizer, loader = _engine(seed).make_private(  # type: ignore[attr-defined]
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=sigma,
        max_grad_norm=CLIP,
        poisson_sampling=poisson,
    )
    return _train(model, optimizer, loader)


def _sigma(records: pd.DataFrame, *, epochs: int = EPOCHS, rate_factor: float = 1.0) -> float:
    from opacus.accountants.utils import get_noise_multiplier

    rate = 1.0 / int(np.ceil(len(records) / BATCH))  # Opacus's rate: one over the batches
    return float(
        get_noise_multiplier(
            target_epsilon=EPSILON,
            target_delta=DELTA,
            sample_rate=rate * rate_factor,
            epochs=epochs,
            accountant="prv",
        )
    )


@_quiet
def noise_for_fewer_epochs(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """Noise for EPOCHS / 4 epochs, trained EPOCHS."""
    return _made_private(records, labels, seed, _sigma(records, epochs=EPOCHS // 4))


@_quiet
def noise_for_smaller_rate(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """Noise for a quarter of the loader's sample rate."""
    return _made_private(records, labels, seed, _sigma(records, rate_factor=0.25))


@_quiet
def shuffled_batches(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """The claim's noise for Poisson sampling, over fixed shuffled batches instead."""
    return _made_private(records, labels, seed, _sigma(records), poisson=False)


@_quiet
def batch_norm(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """BatchNorm in the model: Opacus's validator refuses it in make_private."""
    model, optimizer, loader = _setup(records, labels, seed, norm=True)
    model, optimizer, loader = _with_epsilon(model, optimizer, loader, seed)
    return _train(model, optimizer, loader)


@_quiet
def per_batch_clipping(records: pd.DataFrame, labels: pd.Series, seed: int = 0) -> nn.Module:
    """The DP-SGD formula written by hand around Opacus's accountant: the noise the claim
    needs, but the batch's mean gradient clipped as a whole instead of each record's
    (no DPOptimizer: Opacus never sees a record's gradient)."""
    from opacus.accountants import RDPAccountant

    model, optimizer, loader = _setup(records, labels, seed)
    rate = 1.0 / len(loader)  # type: ignore[arg-type]
    sigma = _sigma(records)
    accountant = RDPAccountant()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(EPOCHS):
        for xb, yb in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)  # per batch, not per record
            for p in model.parameters():
                noise = torch.normal(0.0, sigma * CLIP, p.shape, generator=gen)
                p.grad += noise / BATCH
            optimizer.step()
            accountant.step(noise_multiplier=sigma, sample_rate=rate)
    return model.eval()
