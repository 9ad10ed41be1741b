"""Types shared across layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# A queryable model: encoded float32 rows (n, d) -> float64 logits (n, C).
LogitsFn = Callable[[np.ndarray], np.ndarray]
