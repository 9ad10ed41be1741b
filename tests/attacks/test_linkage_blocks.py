"""The permutation null of DCR linkage keeps each released sample's nearest pooled records,
found in blocks (memory bounded at hospital scale): the same rates as the minimum over each
half of the dense distance matrix, bit for bit, also when a sample's kept records all fall
in one half (then it is computed in full) and when one pooled record is in neither half."""

from __future__ import annotations

import numpy as np
import pytest

from auditor.attacks.records import linkage
from auditor.attacks.records.linkage import permutation_null


@pytest.mark.parametrize("kept", [64, 3, 1])  # 1: every sample falls back to the full row
def test_nearest_kept_give_the_dense_permutation_null(
    kept: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkage, "NEAREST_KEPT", kept)
    rng = np.random.default_rng(0)
    released, pooled = rng.normal(size=(200, 50)), rng.normal(size=(3001, 50))  # 4 blocks
    dense = np.sqrt(((released[:, None, :] - pooled[None, :, :]) ** 2).sum(axis=2))
    stream, half, expected = np.random.default_rng(3), len(pooled) // 2, []
    for _ in range(25):
        order = stream.permutation(len(pooled))
        a, b = dense[:, order[:half]].min(axis=1), dense[:, order[half : 2 * half]].min(axis=1)
        expected.append(float((a < b).mean()))
    got = permutation_null(released, pooled, rng=np.random.default_rng(3), rounds=25)
    np.testing.assert_array_equal(got, np.array(expected))
