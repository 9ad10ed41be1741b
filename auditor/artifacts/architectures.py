"""Model architectures: the built-in ones by name, or a user's `package.module:function`."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from auditor.artifacts.builtin import BUILTIN

__all__ = ["BUILTIN", "CNN", "MLP", "build_model"]


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
        # net[0] is the first Linear (built above); TorchScript compiles this line as it is
        return self.net(x.to(self.net[0].weight.dtype))  # type: ignore[arg-type]


MAX_CNN_LAYERS, MAX_CNN_CHANNELS = 8, 1024


class CNN(nn.Module):
    """A small convolutional network for images (input shape (C, H, W): 2-D convolutions)
    or series ((C, L): 1-D): 3x3 (or 3) same-size kernels with ReLU, then one linear layer
    on the flattened feature maps. Takes flattened rows (B, C * H * W), as the auditor
    keeps every record, or tensors (B, *input_shape); casts to its dtype inside `forward`
    (ART feeds float64).
    """

    def __init__(
        self, n_features: int, n_classes: int, input_shape: Sequence[int], channels: Sequence[int]
    ) -> None:
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (2, 3) or int(torch.tensor(shape).prod()) != n_features:
            raise ValueError(
                f"cnn needs architecture_params input_shape (C, H, W) or (C, L) whose product "
                f"is the {n_features} input features, got {list(shape)}"
            )
        if not 1 <= len(channels) <= MAX_CNN_LAYERS or not all(
            1 <= int(c) <= MAX_CNN_CHANNELS for c in channels
        ):
            # The widths can come from an artifact's metadata: bounded before any allocation.
            raise ValueError(
                f"cnn channels must list 1 to {MAX_CNN_LAYERS} widths of 1 to {MAX_CNN_CHANNELS}"
            )
        self.input_shape = shape
        conv = nn.Conv2d if len(shape) == 3 else nn.Conv1d
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise([shape[0], *channels]):
            layers += [conv(c_in, c_out, 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        width = (int(channels[-1]) if channels else shape[0]) * n_features // shape[0]
        self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.head.weight.dtype).reshape(x.shape[0], *self.input_shape)
        return self.head(self.features(x).flatten(1))


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
    if architecture == "cnn":
        return CNN(
            n_features,
            n_classes,
            params.get("input_shape", ()),
            tuple(int(c) for c in params.get("channels", (16, 32))),
        )
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
