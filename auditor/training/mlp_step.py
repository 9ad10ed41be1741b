"""One training step of K stacked built-in MLPs with gradients derived by hand.

Written here because autograd's general machinery costs more than the arithmetic at the
batch sizes reference models train with (64-128 records): it allocates every activation
and gradient afresh, accumulates each weight gradient into `.grad` through a copy (the
batched matmul's gradient comes out transposed) and walks a graph per step. For the
built-in MLP (linear layers and ReLU) the backward pass is two batched matmuls per layer,
so this step writes it out: activations and gradients live in buffers allocated once per
batch width, every weight gradient is one `bmm` into the parameter's `.grad`. The loss is
`record_losses` averaged over each model's batch and summed over models, the quantity
`fit_ensemble` differentiates with autograd for any other architecture; tests compare the
two gradient by gradient.
"""

from __future__ import annotations

import torch

threshold_backward = torch.ops.aten.threshold_backward.grad_input


class MLPStep:
    """Forward and backward of K stacked MLPs; writes each parameter's `.grad`.

    `params` holds `net.{2i}.weight` (K, out, in) and `net.{2i}.bias` (K, out) for
    layers i = 0 .. n_layers - 1, as `Ensemble.params` does for the built-in MLP.
    """

    def __init__(self, params: dict[str, torch.Tensor], n_layers: int) -> None:
        self.weights = [params[f"net.{2 * i}.weight"] for i in range(n_layers)]
        self.biases = [params[f"net.{2 * i}.bias"] for i in range(n_layers)]
        for p in (*self.weights, *self.biases):
            p.grad = torch.zeros_like(p)
        # Buffers per batch width: every epoch alternates full batches and one shorter last
        # batch, so both sets are kept rather than reallocated twice an epoch.
        self._by_width: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}

    def _buffers(self, width: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Activations (K, width, out) per layer and input gradients per hidden layer."""
        if width not in self._by_width:
            k = self.weights[0].shape[0]
            dtype, device = self.weights[0].dtype, self.weights[0].device
            acts = [
                torch.empty(k, width, w.shape[1], dtype=dtype, device=device) for w in self.weights
            ]
            grads = [
                torch.empty(k, width, w.shape[2], dtype=dtype, device=device)
                for w in self.weights[1:]
            ]
            self._by_width[width] = (acts, grads)
        return self._by_width[width]

    def __call__(self, x: torch.Tensor, labels: torch.Tensor) -> None:
        """Gradients of sum_k mean_b loss(model k, x[k, b], labels[k, b]) into `.grad`.

        `x` is (K, b, d); `labels` (K, b) class indices or (K, b, L) 0/1 vectors.
        """
        outs, grads = self._buffers(x.shape[1])  # layer i writes outs[i], reads inputs[i]
        with torch.no_grad():
            inputs = [x, *outs[:-1]]
            last = len(self.weights) - 1
            for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                torch.baddbmm(b.unsqueeze(1), inputs[i], w.mT, out=outs[i])
                if i < last:
                    outs[i].relu_()
            g = _loss_gradient(outs[last], labels)
            for i in range(last, -1, -1):
                torch.bmm(g.mT, inputs[i], out=self.weights[i].grad)
                torch.sum(g, dim=1, out=self.biases[i].grad)
                if i > 0:
                    g = torch.bmm(g, self.weights[i], out=grads[i - 1])
                    # ReLU's backward in place (autograd's kernel: 30x masked_fill_'s speed).
                    threshold_backward(g, inputs[i], 0.0, grad_input=g)


def _loss_gradient(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """d(sum_k mean_b loss) / d logits, (K, b, C): (softmax - one-hot) / b for
    cross-entropy, (sigmoid - y) / b for the summed binary cross-entropy."""
    scale = 1.0 / logits.shape[1]
    if labels.ndim == logits.ndim:
        probs = torch.sigmoid(logits)
        return probs.sub_(labels.to(probs.dtype)).mul_(scale)
    probs = torch.softmax(logits, dim=-1)
    probs.scatter_add_(-1, labels.unsqueeze(-1), torch.full_like(probs[..., :1], -1.0))
    return probs.mul_(scale)
