"""The architecture a model file's graph shows, as the auditor's model that has it.

An ONNX graph or a TorchScript module lists its layers: linear layers with their weight
shapes, activations, convolutions. A chain of linear layers with ReLU between them is the
auditor's built-in MLP with those hidden widths, so reference models can have the target's
exact architecture; its optimiser settings are not in the file, and the audit fits them
(`auditor.orchestration.settings_fit`). Any other graph (another activation, a
convolution, an operator this reader does not know) is not read, and says why: the
reference models then use the auditor's approximation, as before.

Written here: no library maps an exported graph back to training-time layer widths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

LayerKind = Literal["linear", "activation", "conv", "neutral", "other"]

# Operators that pass values through, reshape them or scale them (a normalisation baked
# into the graph): they do not change the architecture the reference models need.
NEUTRAL = {
    *("Add", "Sub", "Mul", "Div", "Cast", "Identity", "Flatten", "Reshape", "Constant"),
    *("Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Dropout", "Transpose", "ZipMap"),
    *("Softmax", "LogSoftmax", "Sequential", "ModuleList", "Flatten", "Unflatten"),
}
ACTIVATIONS = {
    *("Relu", "ReLU", "Tanh", "Sigmoid", "LeakyRelu", "LeakyReLU", "Elu", "ELU", "Gelu"),
    *("GELU", "Selu", "SELU", "Softplus", "HardSigmoid", "Hardsigmoid", "Mish", "SiLU"),
}
RELU = {"Relu", "ReLU"}


@dataclass(frozen=True)
class Layer:
    """One operator of a graph, in order: its kind, its operator name, and for a linear
    layer its (inputs, outputs)."""

    kind: LayerKind
    name: str
    shape: tuple[int, int] | None = None


@dataclass(frozen=True)
class GraphArchitecture:
    """The recipe parameters of the auditor's model with the graph's architecture (None
    when there is none), and the architecture in words (or why it was not read)."""

    params: dict[str, Any] | None
    described: str


def classify(name: str) -> LayerKind:
    """The kind of an operator other than a linear layer."""
    if name in ACTIVATIONS:
        return "activation"
    if name.startswith("Conv"):
        return "conv"
    return "neutral" if name in NEUTRAL else "other"


def architecture_of(layers: list[Layer]) -> GraphArchitecture:
    """The built-in MLP a chain of linear layers with ReLU between them is, or why the
    layers are not one. Activations after the last linear layer (a softmax or sigmoid on
    the output) are the output's, not the architecture's."""
    linear = [i for i, layer in enumerate(layers) if layer.kind == "linear"]
    conv = sorted({layer.name for layer in layers if layer.kind == "conv"})
    other = sorted({layer.name for layer in layers if layer.kind == "other"})
    if conv:
        return GraphArchitecture(None, f"convolutional ({', '.join(conv)}): not read")
    if not linear:
        return GraphArchitecture(None, "no linear layer with stored weights found")
    if other:
        return GraphArchitecture(None, f"operators {', '.join(other[:4])}: not read")
    shapes = [layers[i].shape or (0, 0) for i in linear]
    widths = [shapes[0][0], *(s[1] for s in shapes)]
    if any(s[0] != w for s, w in zip(shapes, widths, strict=False)):
        return GraphArchitecture(None, "linear layers that do not form one chain: not read")
    between = [layer.name for layer in layers[linear[0] : linear[-1]] if layer.kind == "activation"]
    chain = " -> ".join(str(w) for w in widths)
    if len(between) != len(linear) - 1 or any(a not in RELU for a in between):
        found = ", ".join(sorted(set(between))) or "none"
        return GraphArchitecture(
            None, f"linear layers {chain} with activations {found}: the auditor's MLP has ReLU"
        )
    hidden = [int(w) for w in widths[1:-1]]
    return GraphArchitecture(
        {"architecture": "mlp", "hidden": hidden},
        f"MLP {chain} with ReLU ({len(linear)} linear layers)",
    )


def onnx_layers(path: Any) -> list[Layer]:
    """The layers of an ONNX graph in node order. A linear layer is a Gemm, or a MatMul,
    whose weight is a stored tensor (an initializer or a Constant node)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path), load_external_data=False).graph
    shapes: dict[str, tuple[int, ...]] = {t.name: tuple(t.dims) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    shapes[node.output[0]] = tuple(numpy_helper.to_array(attribute.t).shape)
    layers = []
    for node in graph.node:
        op = node.op_type
        if op in ("Gemm", "MatMul") and len(node.input) > 1 and node.input[1] in shapes:
            weight = shapes[node.input[1]]
            if len(weight) != 2:
                layers.append(Layer("other", op))
                continue
            trans = any(a.name == "transB" and a.i == 1 for a in node.attribute)
            n_in, n_out = (weight[1], weight[0]) if trans else (weight[0], weight[1])
            layers.append(Layer("linear", op, (int(n_in), int(n_out))))
        elif op in ("Gemm", "MatMul"):
            layers.append(Layer("other", f"{op} without a stored weight"))
        else:
            layers.append(Layer(classify(op), op))
    return layers


def torch_layers(module: Any) -> list[Layer]:
    """The layers of a torch or TorchScript module in the order they were registered (as
    an `nn.Sequential` runs them); containers are skipped."""
    layers = []
    for _, sub in module.named_modules():
        name = getattr(sub, "original_name", type(sub).__name__)
        if name == "Linear":
            out, n_in = tuple(sub.weight.shape)
            layers.append(Layer("linear", name, (int(n_in), int(out))))
        elif any(True for _ in sub.children()):
            continue  # a container: its children are listed
        else:
            layers.append(Layer(classify(name), name))
    return layers
