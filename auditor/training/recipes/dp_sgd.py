"""The `dp_sgd` recipe: DP-SGD with Opacus; the spent epsilon is the model's claim."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from auditor.training.losses import as_targets, mean_loss
from auditor.training.recipes import supervised
from auditor.training.recipes.base import RecipeInput, Trained
from auditor.training.recipes.params import DPParams


def train(data: RecipeInput, hp: DPParams, seed: int) -> Trained:
    """DP-SGD with Opacus (Poisson sampling, per-sample clipping, RDP accounting) to
    (target_epsilon, target_delta); the spent epsilon is the claim. With the user's own
    training function (`[artifact] train`) that function trains instead (no claim made)."""
    from opacus import PrivacyEngine

    if hp.user is not None:  # the hospital's own (DP) training code, as supervised.train
        return Trained(hp.user.fit(data.x, data.y, seed), {})
    if hp.architecture == "random_forest":
        raise ValueError("dp_sgd trains torch architectures only, not random_forest")
    model = supervised.init_model(hp, data.x.shape[1], data.n_classes, seed)
    dataset = torch.utils.data.TensorDataset(
        torch.tensor(data.x, dtype=torch.float32),
        as_targets(data.y, multilabel=np.ndim(data.y) == 2),
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=hp.batch_size, generator=torch.Generator().manual_seed(seed + 1)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
    with warnings.catch_warnings():
        # Opacus warns that secure_mode is off; seeded noise is what makes audits repeatable.
        warnings.simplefilter("ignore")
        engine = PrivacyEngine(accountant="rdp")
        private, optimizer, loader = engine.make_private_with_epsilon(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            target_epsilon=hp.target_epsilon,
            target_delta=hp.target_delta,
            epochs=hp.epochs,
            max_grad_norm=hp.max_grad_norm,
            noise_generator=torch.Generator().manual_seed(seed + 2),
        )
        planned = float(optimizer.noise_multiplier)
        optimizer.noise_multiplier = planned * hp.noise_scale  # 1: as planned (see DPParams)
        private.train()
        for _ in range(hp.epochs):
            for xb, yb in loader:
                if len(xb) == 0:
                    continue
                optimizer.zero_grad()
                mean_loss(private(xb), yb).backward()
                optimizer.step()
        # The claim is the plan's: Opacus's accountant over the planned noise. With
        # noise_scale 1 that is exactly what the engine spent.
        engine.accountant.history = [(planned, q, n) for _, q, n in engine.accountant.history]
        epsilon = float(engine.get_epsilon(hp.target_delta))
    model.eval()
    claims = {"epsilon": epsilon, "delta": hp.target_delta, "noise_multiplier": planned}
    return Trained(model, claims)
