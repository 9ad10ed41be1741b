"""The permutation null of DCR linkage computes its distances in blocks of pooled records
(memory bounded at hospital scale): the same rates as the dense computation, bit for bit."""

from __future__ import annotations

import numpy as np

from auditor.attacks.records.linkage import permutation_null


def test_blocked_distances_give_the_dense_permutation_null() -> None:
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
