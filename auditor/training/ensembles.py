"""Vectorised ensembles: K models of one recipe trained at once, one batched forward and
backward for all of them.

Written here because no library trains many small, independently initialised models in
one pass: ML Privacy Meter, LeakPro, ART and SACRO-ML train reference models one at a
time in a Python loop. Each model k is trained exactly as `recipes.supervised.fit` trains a single
model with the same seed and data (same initialisation, same minibatch order, Adam being
elementwise), so the vectorisation changes speed and float rounding (the last bits), not
results. The built-in MLP stacks its weights, uses batched matmuls and gradients derived by
hand (`mlp_step`); a user's `package.module:function` architecture goes through
`torch.func.stack_module_state` + `vmap` and autograd. Adam is torch's fused kernel: one
pass over every stacked tensor per step (the per-tensor default took as long as the
matmuls at batch 64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from auditor.artifacts.architectures import MLP
from auditor.training.losses import as_targets, record_losses
from auditor.training.mlp_step import MLPStep
from auditor.training.recipes.params import TrainParams
from auditor.training.recipes.supervised import init_model


@dataclass
class Ensemble:
    """K models with stacked parameters (leading dimension K) on one device.

    `template` is model 0 as an ordinary module (for architecture and buffers); for the
    built-in MLP, `forward` uses batched matmuls, otherwise `vmap` over `functional_call`.
    """

    template: nn.Module
    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]

    @property
    def size(self) -> int:
        return next(iter(self.params.values())).shape[0]

    @classmethod
    def from_modules(cls, modules: list[nn.Module], device: torch.device) -> Ensemble:
        params, buffers = stack_module_state([m.to(device) for m in modules])
        params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
        return cls(modules[0], params, {k: v.detach() for k, v in buffers.items()})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (K, B, C) for inputs x of shape (K, B, d) (model k sees x[k])."""
        if is_mlp(self.template):
            h = x
            layers = n_layers(self.template)
            for i in range(layers):
                w = self.params[f"net.{2 * i}.weight"]  # (K, out, in)
                b = self.params[f"net.{2 * i}.bias"]  # (K, out)
                h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
                if i < layers - 1:
                    h = torch.relu_(h)
            return h

        def one(params: dict, buffers: dict, xb: torch.Tensor) -> torch.Tensor:
            return functional_call(self.template, (params, buffers), (xb,))

        return vmap(one)(self.params, self.buffers, x)

    def logits(self, x: np.ndarray, batch: int = 4096) -> np.ndarray:
        """float64 logits (K, n, C) of every model on the same rows `x`."""
        device = next(iter(self.params.values())).device
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                xb = torch.tensor(x[i : i + batch], device=device)
                out.append(self.forward(xb.unsqueeze(0).expand(self.size, -1, -1)))
        return torch.cat(out, dim=1).double().cpu().numpy()

    def module(self, k: int) -> nn.Module:
        """Model k as an ordinary module (a copy, on the CPU)."""
        import copy

        single = copy.deepcopy(self.template).cpu()
        single.load_state_dict(
            {
                **{n: p[k].detach().cpu() for n, p in self.params.items()},
                **{n: b[k].cpu() for n, b in self.buffers.items()},
            }
        )
        return single.eval()

    def state(self) -> dict[str, torch.Tensor]:
        """Stacked tensors, for the cache."""
        return {
            **{f"p.{n}": p.detach().cpu().contiguous() for n, p in self.params.items()},
            **{f"b.{n}": b.cpu().contiguous() for n, b in self.buffers.items()},
        }

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `state` (shapes must match)."""
        device = next(iter(self.params.values())).device
        for n in self.params:
            self.params[n] = tensors[f"p.{n}"].to(device).requires_grad_(True)
        for n in self.buffers:
            self.buffers[n] = tensors[f"b.{n}"].to(device)


def is_mlp(model: nn.Module) -> bool:
    """The built-in MLP, whose stacked weights `Ensemble` multiplies directly."""
    return isinstance(model, MLP)


def n_layers(mlp: nn.Module) -> int:
    """Linear layers of a built-in MLP (Linear, ReLU, ..., Linear)."""
    return len(cast(nn.Sequential, mlp.get_submodule("net"))) // 2 + 1


def device_for(preference: str = "auto") -> torch.device:
    """CUDA when available (or asked for), the CPU otherwise."""
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    return torch.device("cuda")


def init_ensemble(
    hp: TrainParams, n_features: int, n_classes: int, seeds: list[int], device: torch.device
) -> Ensemble:
    """K untrained models, model k initialised exactly as `init_model(hp, ..., seeds[k])`."""
    modules = [init_model(hp, n_features, n_classes, s) for s in seeds]
    if not isinstance(modules[0], nn.Module):
        raise ValueError(f"architecture {hp.architecture!r} is not a torch model")
    return Ensemble.from_modules(modules, device)


def fit_ensemble(
    ens: Ensemble,
    x: np.ndarray,
    y: np.ndarray,
    subsets: np.ndarray,
    hp: TrainParams,
    fit_seeds: list[int],
    *,
    multilabel: bool = False,
    autograd: bool = False,
    after_epoch: Callable[[int], None] | None = None,
) -> None:
    """Train every model k in place on rows `subsets[k]` of `x`; `after_epoch(e)` is
    called after each epoch e = 1, 2, ... (the models then equal models trained e epochs).

    `y` holds labels per row (N,) or per model and row (K, N); multi-label 0/1 vectors per
    row (N, L) or per model and row (K, N, L). All subsets have the same
    size. Model k sees the same minibatches as `recipes.supervised.fit` with seed `fit_seeds[k]` on
    `x[subsets[k]]`, so it ends where that single model ends (up to float rounding).
    `autograd=True` takes the general path for every architecture (autograd, torch's
    default Adam): the step the hand-derived one replaced, kept for comparison.
    """
    device = next(iter(ens.params.values())).device
    k_models, n = subsets.shape
    xt = torch.tensor(x, dtype=torch.float32, device=device)
    yt = as_targets(y, multilabel, device)
    if yt.ndim == (2 if multilabel else 1):  # one label (vector) per row, shared by all
        yt = yt.unsqueeze(0).expand(k_models, *yt.shape)
    sub = torch.tensor(subsets, dtype=torch.long, device=device)
    rows = torch.arange(k_models, device=device).unsqueeze(1)
    gens = [torch.Generator().manual_seed(s) for s in fit_seeds]
    # fused: one kernel per step over every stacked tensor, 20x the default's speed on
    # (K, ...) tensors; it rounds differently from the default in the last bit.
    opt = torch.optim.Adam(
        ens.params.values(), lr=hp.lr, weight_decay=hp.weight_decay, fused=not autograd
    )
    steps = math.ceil(n / hp.batch_size)
    # The built-in MLP: gradients by hand into preallocated buffers (same loss; compared
    # with autograd in the tests); any other architecture: autograd through `forward`.
    by_hand = None
    if is_mlp(ens.template) and not autograd:
        by_hand = MLPStep(ens.params, n_layers(ens.template))
    for epoch in range(hp.epochs):
        # Same permutation stream as recipes.fit: one randperm per model per epoch.
        order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        for step in range(steps):
            local = order[:, step * hp.batch_size : (step + 1) * hp.batch_size]
            idx = sub[rows, local]  # (K, b) row indices into x
            labels = yt[rows, idx]
            if by_hand is not None:
                by_hand(xt[idx], labels)
            else:
                opt.zero_grad(set_to_none=autograd)  # False: keep the grad buffers
                # Sum over models of each model's mean loss: model k's gradient is its own.
                record_losses(ens.forward(xt[idx]), labels).mean(dim=1).sum().backward()
            opt.step()
        if after_epoch is not None:
            after_epoch(epoch + 1)


def half_subsets(n: int, k_models: int, rng: np.random.Generator) -> np.ndarray:
    """(K, n // 2) row indices: every model trains on exactly half of the n rows, and every
    row is in about half of the models (in exactly half when paired: model 2j takes a
    random half, model 2j + 1 the other half)."""
    half = n // 2
    out = np.empty((k_models, half), dtype=np.int64)
    for j in range(0, k_models, 2):
        perm = rng.permutation(n)
        out[j] = np.sort(perm[:half])
        if j + 1 < k_models:
            out[j + 1] = np.sort(perm[half : 2 * half])
    return out
