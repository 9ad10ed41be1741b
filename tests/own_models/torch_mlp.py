"""A hospital's own torch MLP, as plain torch code would train and export it: the numeric
columns standardised inside the model (with the members' means), two hidden layers of 128
with ReLU, Adam for many epochs with no weight decay, exported to ONNX with the legacy
exporter (no onnxscript needed)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn


class Standardised(nn.Module):
    """(x - mean) / std, then the network."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, net: nn.Module) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x.float() - self.mean) / self.std)


def train_mlp(
    records: pd.DataFrame,
    labels: pd.Series,
    seed: int = 0,
    *,
    epochs: int = 300,
    lr: float = 1e-3,
    batch_size: int = 64,
    weight_decay: float = 0.0,
) -> nn.Module:
    """An MLP on `records` (numeric columns only), trained as a user would."""
    torch.manual_seed(seed)
    x = records.to_numpy(dtype=np.float32)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    net = nn.Sequential(
        nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2)
    )
    model = Standardised(mean, std, net)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    xt, yt = torch.tensor(x), torch.tensor(labels.to_numpy(), dtype=torch.long)
    for _ in range(epochs):
        order = torch.randperm(len(xt))
        for start in range(0, len(xt), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    return model.eval()


def export_onnx(model: nn.Module, width: int, path: Path) -> Path:
    """The model as ONNX, one float input of `width` columns and a batch axis."""
    with warnings.catch_warnings():  # the legacy exporter is deprecated, still shipped
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, width),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
        )
    return path
