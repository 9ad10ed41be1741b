"""The hand-derived MLP step against autograd: same loss, same gradients (to rounding)."""

from __future__ import annotations

import pytest
import torch

from auditor.training.ensembles import init_ensemble, n_layers
from auditor.training.losses import record_losses
from auditor.training.mlp_step import MLPStep
from auditor.training.recipes.params import TrainParams

# float32 gradients of O(1) losses: autograd and the hand-written step sum the same terms
# in different orders (and softmax against exp(log_softmax)); measured <= 6e-8.
TOLERANCE = 1e-6


def autograd_gradients(ens, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    for p in ens.params.values():
        p.grad = None
    record_losses(ens.forward(x), y).mean(dim=1).sum().backward()
    out = {n: p.grad.clone() for n, p in ens.params.items()}
    for p in ens.params.values():
        p.grad = torch.full_like(p, float("nan"))  # the step must overwrite every entry
    return out


@pytest.mark.parametrize(
    ("hidden", "classes", "multilabel"),
    [((32, 16), 2, False), ((8,), 5, False), ((), 3, False), ((16, 16), 4, True)],
)
def test_gradients_match_autograd(hidden: tuple, classes: int, multilabel: bool) -> None:
    hp = TrainParams(hidden=hidden)
    ens = init_ensemble(hp, 10, classes, [1, 2, 3], torch.device("cpu"))
    step = MLPStep(ens.params, n_layers(ens.template))
    gen = torch.Generator().manual_seed(0)
    for width in (7, 7, 3):  # buffers reused, then resized for a short last batch
        x = torch.randn(3, width, 10, generator=gen)
        if multilabel:
            y = (torch.rand(3, width, classes, generator=gen) < 0.5).float()
        else:
            y = torch.randint(0, classes, (3, width), generator=gen)
        expected = autograd_gradients(ens, x, y)
        step(x, y)
        for name, p in ens.params.items():
            torch.testing.assert_close(p.grad, expected[name], rtol=0, atol=TOLERANCE)


def test_dead_units_get_no_gradient() -> None:
    """ReLU's backward: a hidden unit that is off for every record passes nothing back."""
    hp = TrainParams(hidden=(4,))
    ens = init_ensemble(hp, 3, 2, [0], torch.device("cpu"))
    with torch.no_grad():
        ens.params["net.0.bias"][0, 0] = -1e3  # unit 0 never fires
    step = MLPStep(ens.params, 2)
    step(torch.randn(1, 5, 3), torch.tensor([[0, 1, 0, 1, 1]]))
    assert torch.all(ens.params["net.0.weight"].grad[0, 0] == 0)
    assert ens.params["net.0.bias"].grad[0, 0] == 0
    assert ens.params["net.0.weight"].grad[0, 1:].abs().sum() > 0


def test_training_by_hand_ends_where_autograd_training_ends() -> None:
    """`fit_ensemble`'s two paths over whole epochs (short last batch, multi-class):
    the logits agree to float rounding."""
    import numpy as np

    from auditor.training.ensembles import fit_ensemble, half_subsets

    rng = np.random.default_rng(0)
    x = rng.normal(size=(203, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    hp = TrainParams(hidden=(12, 8), epochs=4, batch_size=32)
    subsets = half_subsets(len(x), 4, rng)
    start = init_ensemble(hp, 6, 3, [1, 2, 3, 4], torch.device("cpu")).logits(x)
    ends = []
    for autograd in (False, True):
        ens = init_ensemble(hp, 6, 3, [1, 2, 3, 4], torch.device("cpu"))
        fit_ensemble(ens, x, y, subsets, hp, [5, 6, 7, 8], autograd=autograd)
        ends.append(ens.logits(x))
    assert np.abs(ends[0] - ends[1]).max() <= 1e-5
    assert np.abs(ends[0] - start).max() > 0.1  # and training moved them
