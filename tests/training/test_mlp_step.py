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
