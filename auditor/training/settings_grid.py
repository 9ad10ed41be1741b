"""Reference models over a small grid of training settings (epochs, learning rate, weight
decay, batch size): the settings a model file does not state, for the audit to fit
(`auditor.orchestration.settings_fit` scores them).

Each (learning rate, weight decay, batch size) trains one vectorised ensemble to the
grid's largest number of epochs, read after every epoch the grid names: Adam has no
schedule here, so a model read after e epochs is the model trained for e epochs with the
same seed (`fit_ensemble`'s `after_epoch`). The whole grid costs one ensemble per
(learning rate, weight decay, batch size), not one per setting.

Written here: no library searches a released model's training settings.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch

from auditor.training.ensembles import fit_ensemble, init_ensemble
from auditor.training.executors import fork_map
from auditor.training.recipes import TrainParams


@dataclass(frozen=True)
class Setting:
    """One point of the grid."""

    epochs: int
    lr: float
    weight_decay: float
    batch_size: int

    def apply(self, hp: TrainParams) -> TrainParams:
        """`hp` trained with this setting."""
        return replace(
            hp,
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SettingsGrid:
    """The settings searched: Adam's common learning rates, no or mild weight decay, small
    and large batches, and 10 to 500 epochs (a clinical MLP trained far past its best
    validation loss memorises its records; one stopped early does not)."""

    epochs: tuple[int, ...] = (10, 25, 50, 100, 200, 300, 500)
    lr: tuple[float, ...] = (1e-3, 3e-3)
    weight_decay: tuple[float, ...] = (0.0, 1e-3)
    batch_size: tuple[int, ...] = (32, 128)
    models: int = 4  # reference models trained per setting

    def over(self, hp: TrainParams, fit: tuple[str, ...]) -> SettingsGrid:
        """This grid over the settings named in `fit`; the others as `hp` states them."""
        return SettingsGrid(
            epochs=self.epochs if "epochs" in fit else (hp.epochs,),
            lr=self.lr if "lr" in fit else (hp.lr,),
            weight_decay=self.weight_decay if "weight_decay" in fit else (hp.weight_decay,),
            batch_size=self.batch_size if "batch_size" in fit else (hp.batch_size,),
            models=self.models,
        )

    def settings(self) -> list[Setting]:
        return [
            Setting(e, lr, wd, b)
            for lr, wd, b in itertools.product(self.lr, self.weight_decay, self.batch_size)
            for e in sorted(self.epochs)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def grid_logits(
    hp: TrainParams,
    grid: SettingsGrid,
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    subsets: np.ndarray,
    seeds: list[int],
    query_x: np.ndarray,
    device: torch.device,
) -> dict[Setting, np.ndarray]:
    """float64 logits (K, n_query, C) on `query_x` of K = len(seeds) models per setting of
    the grid, model k trained on rows `subsets[k]` of `x` exactly as the `supervised`
    recipe trains it with seed `seeds[k]` under that setting. The (learning rate, decay,
    batch) combinations train side by side under the thread policy (`fork_map`)."""
    last = max(grid.epochs)

    def train(combination: tuple[float, float, int]) -> dict[Setting, np.ndarray]:
        lr, wd, batch = combination
        trained = Setting(last, lr, wd, batch).apply(hp)
        ens = init_ensemble(trained, x.shape[1], n_classes, seeds, device)
        read: dict[Setting, np.ndarray] = {}

        def after(epoch: int) -> None:
            if epoch in grid.epochs:
                read[Setting(epoch, lr, wd, batch)] = ens.logits(query_x)

        fit_ensemble(ens, x, y, subsets, trained, [s + 1 for s in seeds], after_epoch=after)
        return read

    out: dict[Setting, np.ndarray] = {}
    combinations = list(itertools.product(grid.lr, grid.weight_decay, grid.batch_size))
    fork_map(train, combinations, lambda _, read: out.update(read), device.type)
    return out
