"""Sharing schemes as recipes: seeded functions from private records to a trained model.

The same recipes build the demo and test fixtures and train the shadow / reference models
that calibrated attacks need ("what would the artifact look like without this patient?").
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from auditor.artifacts.architectures import build_model, model_params
from auditor.artifacts.query import logits_fn


@dataclass(frozen=True)
class Hyperparameters:
    """Everything a recipe needs besides data and seed. Stored in the artifact metadata."""

    architecture: str = "mlp"
    hidden: tuple[int, ...] = (64,)
    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-4
    # dp_sgd only
    target_epsilon: float = 3.0
    target_delta: float = 1e-5
    max_grad_norm: float = 1.0
    # merge only: sites fine-tuned from the base, their epochs and learning rate, and the
    # weight of the summed data vectors (None: 1 / number of sites, i.e. averaging)
    n_sites: int = 4
    finetune_epochs: int = 20
    finetune_lr: float = 5e-4
    merge_lambda: float | None = None
    # condense and stimuli: samples per class; condense: optimisation steps
    per_class: int = 10
    condense_iterations: int = 300
    # stimuli only: L2 weight keeping stimuli near the data, identity-inhibition weight
    stimuli_l2: float = 0.5
    inhibit_identity: float = 0.0
    # architecture parameters for a user's "package.module:function"
    architecture_params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hyperparameters:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "hidden" in known:
            known["hidden"] = tuple(int(h) for h in known["hidden"])
        return cls(**known)

    def model_params(self) -> dict[str, Any]:
        """Keyword parameters for `build_model`."""
        return model_params(self.architecture, self.to_dict())


# Named presets used by the demo and the tests.
PRESETS: dict[str, Hyperparameters] = {
    "default": Hyperparameters(),
    # Deliberately leaky (the overfit fixture): fully grown trees memorise their records.
    # An overfit MLP leaks too (LOSS AUC ~0.66) but not at low FPR to one global LOSS
    # threshold: it is as confident on typical non-members as on members.
    "overfit": Hyperparameters(architecture="random_forest"),
    # An overfit MLP: where LiRA and RMIA beat LOSS at low FPR by calibrating per record.
    "overfit_mlp": Hyperparameters(hidden=(128,), epochs=100, batch_size=64, weight_decay=0.0),
    "dp": Hyperparameters(epochs=30, batch_size=256, lr=1e-2, target_epsilon=3.0),
    # A third party's model on a small released set (condensed samples, stimuli).
    "consumer": Hyperparameters(epochs=200, batch_size=32),
    "stimuli": Hyperparameters(epochs=200, batch_size=32, per_class=100),
    "stimuli_inhibited": Hyperparameters(
        epochs=200, batch_size=32, per_class=100, inhibit_identity=5.0
    ),
}


@dataclass(frozen=True)
class RecipeInput:
    """Encoded records a recipe trains from; `public_x` is unlabelled public data (mimic)."""

    x: np.ndarray
    y: np.ndarray
    public_x: np.ndarray | None = None
    n_classes: int = 2
    public_y: np.ndarray | None = None  # labels of the public records (merge's base model)
    sites: np.ndarray | None = None  # site of each private record (merge); None: random


@dataclass(frozen=True)
class Trained:
    """A recipe's output: the model (a torch module, or a scikit-learn estimator for the
    "random_forest" architecture), and privacy claims the recipe can make about it."""

    model: Any
    claims: dict[str, float]
    parts: dict[str, Any] = field(default_factory=dict)  # e.g. merge: base, site vectors


def init_model(hp: Hyperparameters, n_features: int, n_classes: int, seed: int) -> Any:
    """Build an untrained model with seeded initialisation (global RNG state is restored)."""
    if hp.architecture == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        params = {"n_estimators": 200, **hp.architecture_params}
        return RandomForestClassifier(**params, random_state=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(
            hp.architecture, n_features=n_features, n_classes=n_classes, params=hp.model_params()
        )


def fit(model: Any, x: np.ndarray, y: np.ndarray, hp: Hyperparameters, seed: int) -> None:
    """Train `model` in place: a torch module with Adam and cross-entropy on minibatches in
    a seeded order; a scikit-learn estimator with its own `fit` (seeded at construction)."""
    if not isinstance(model, nn.Module):
        model.fit(x, y)
        return
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(hp.epochs):
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), hp.batch_size):
            idx = order[start : start + hp.batch_size]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()


def supervised(data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
    """The real-records model: trained directly on the private records."""
    model = init_model(hp, data.x.shape[1], data.n_classes, seed)
    fit(model, data.x, data.y, hp, seed + 1)
    return Trained(model, {})


def mimic(data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
    """Mimic learning: a teacher on the private records labels public records; the student
    is trained on those labels only and is the released artifact."""
    if data.public_x is None or len(data.public_x) == 0:
        raise ValueError("the mimic recipe needs public records (public_x) to label")
    teacher = supervised(data, hp, seed).model
    labels = logits_fn(teacher)(data.public_x).argmax(axis=1)
    student = init_model(hp, data.public_x.shape[1], data.n_classes, seed + 2)
    fit(student, data.public_x, labels, hp, seed + 3)
    return Trained(student, {})


def dp_sgd(data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
    """DP-SGD with Opacus (Poisson sampling, per-sample clipping, RDP accounting) to
    (target_epsilon, target_delta); the spent epsilon is the claim."""
    from opacus import PrivacyEngine

    if hp.architecture == "random_forest":
        raise ValueError("dp_sgd trains torch architectures only, not random_forest")
    model = init_model(hp, data.x.shape[1], data.n_classes, seed)
    dataset = torch.utils.data.TensorDataset(
        torch.tensor(data.x, dtype=torch.float32), torch.tensor(data.y, dtype=torch.long)
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
        loss_fn = nn.CrossEntropyLoss()
        private.train()
        for _ in range(hp.epochs):
            for xb, yb in loader:
                if len(xb) == 0:
                    continue
                optimizer.zero_grad()
                loss_fn(private(xb), yb).backward()
                optimizer.step()
        epsilon = float(engine.get_epsilon(hp.target_delta))
    model.eval()
    claims = {
        "epsilon": epsilon,
        "delta": hp.target_delta,
        "noise_multiplier": float(optimizer.noise_multiplier),
    }
    return Trained(model, claims)


def merge(data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
    """Data vectors: a base model is trained on the (labelled) public records; each site
    fine-tunes a copy on its private records; the released weights are
    base + lambda * sum over sites of (site weights - base weights)."""
    if data.public_x is None or data.public_y is None:
        raise ValueError("the merge recipe needs labelled public records for its base model")
    base = supervised(RecipeInput(data.public_x, data.public_y), hp, seed).model
    sites = data.sites
    if sites is None:  # reference and shadow runs: records spread over sites at random
        sites = np.random.default_rng(seed).integers(0, hp.n_sites, len(data.y)).astype(str)
    tune = replace(hp, epochs=hp.finetune_epochs, lr=hp.finetune_lr)
    base_state = {k: v.detach().clone() for k, v in base.state_dict().items()}
    vectors = {}
    for i, site in enumerate(sorted(set(sites.tolist()))):
        rows = sites == site
        local = copy.deepcopy(base)
        fit(local, data.x[rows], data.y[rows], tune, seed + 11 + i)
        vectors[str(site)] = {k: v.detach() - base_state[k] for k, v in local.state_dict().items()}
    lam = hp.merge_lambda if hp.merge_lambda is not None else 1.0 / max(len(vectors), 1)
    merged = copy.deepcopy(base)
    merged.load_state_dict(
        {k: base_state[k] + lam * sum(v[k] for v in vectors.values()) for k in base_state}
    )
    merged.eval()
    return Trained(merged, {}, {"base": base.eval(), "vectors": vectors, "lambda": lam})


def release_dataset(
    recipe: str, data: RecipeInput, hp: Hyperparameters, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The samples a dataset-releasing recipe ("condense", "stimuli") makes from the
    private records."""
    if recipe == "condense":
        from auditor.training.condense import CondenseSettings, condense

        settings = CondenseSettings(per_class=hp.per_class, iterations=hp.condense_iterations)
        return condense(data.x, data.y, settings=settings, seed=seed, n_classes=data.n_classes)
    if recipe == "stimuli":
        from auditor.training.stimuli import StimuliSettings, synthesize

        teacher = supervised(
            RecipeInput(data.x, data.y, n_classes=data.n_classes), PRESETS["default"], seed
        ).model
        settings = StimuliSettings(
            per_class=hp.per_class, l2=hp.stimuli_l2, inhibit_identity=hp.inhibit_identity
        )
        return synthesize(
            teacher, data.x, settings=settings, seed=seed + 1, n_classes=data.n_classes
        )
    raise ValueError(f"recipe {recipe!r} does not release a dataset")


def release_then_consume(recipe: str) -> Callable[[RecipeInput, Hyperparameters, int], Trained]:
    """A dataset-releasing recipe as a third party meets it: the released samples, then a
    consumer model of hp.architecture trained on them only."""

    def run(data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
        x, y = release_dataset(recipe, data, hp, seed)
        return supervised(RecipeInput(x, y, n_classes=data.n_classes), hp, seed + 7)

    return run


RECIPES: dict[str, Callable[[RecipeInput, Hyperparameters, int], Trained]] = {
    "supervised": supervised,
    "mimic": mimic,
    "dp_sgd": dp_sgd,
    "condense": release_then_consume("condense"),
    "stimuli": release_then_consume("stimuli"),
    "merge": merge,
}


def run_recipe(name: str, data: RecipeInput, hp: Hyperparameters, seed: int) -> Trained:
    """Run the recipe called `name`; ValueError if there is none by that name."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}: use one of {', '.join(RECIPES)}")
    return RECIPES[name](data, hp, seed)


def with_overrides(hp: Hyperparameters, **changes: Any) -> Hyperparameters:
    """A copy of `hp` with some fields changed."""
    return replace(hp, **changes)
