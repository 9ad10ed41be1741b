"""Model architectures: the built-in ones by name, or a user's `package.module:function`."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from auditor.artifacts.builtin import BUILTIN

__all__ = ["BUILTIN", "MLP", "build_model"]


class MLP(nn.Module):
    """Fully connected ReLU network; `hidden=()` makes it logistic regression.

    Casts its input to the parameters' dtype inside `forward`: ART's label-only attacks
    feed float64 arrays into torch models.
    """

    def __init__(self, n_features: int, n_classes: int, hidden: Sequence[int]) -> None:
        super().__init__()
        widths = [n_features, *hidden]
        layers: list[nn.Module] = []
        for w_in, w_out in itertools.pairwise(widths):
            layers += [nn.Linear(w_in, w_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.to(self.net[0].weight.dtype))


def build_model(
    architecture: str, *, n_features: int, n_classes: int, params: Mapping[str, Any]
) -> nn.Module:
    """Build an untrained model.

    `architecture` is a built-in name ("mlp" with params {"hidden": [..]}, "logistic") or
    "package.module:function"; the function is called as
    `function(n_features=..., n_classes=..., **params)` and must return an `nn.Module`.
    Raises ValueError with the reason when the architecture cannot be built.
    """
    if architecture == "mlp":
        return MLP(n_features, n_classes, tuple(int(h) for h in params.get("hidden", (64,))))
    if architecture == "logistic":
        return MLP(n_features, n_classes, ())
    if ":" not in architecture:
        raise ValueError(
            f"unknown architecture {architecture!r}: use one of {', '.join(BUILTIN)} "
            "or 'package.module:function'"
        )
    module_name, _, func_name = architecture.partition(":")
    try:
        # The name is the user's (spec or command line): metadata may only name built-ins
        # (`artifacts.metadata.trusted_metadata`).
        func = getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot import architecture {architecture!r}: {exc}") from exc
    model = func(n_features=n_features, n_classes=n_classes, **params)
    if not isinstance(model, nn.Module):
        raise ValueError(f"architecture {architecture!r} returned {type(model).__name__}")
    return model
