"""Types shared across layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# A queryable model: encoded float32 rows (n, d) -> float64 logits (n, C).
LogitsFn = Callable[[np.ndarray], np.ndarray]

# The DP audit's canary kinds (`auditor.training.canaries`), named here so that the spec
# can offer them without importing torch.
CANARY_KINDS: tuple[str, ...] = ("gradient", "input", "ood", "crafted")

# The membership attacks on a released table itself
# (`auditor.attacks.records.release_membership.RELEASE_ATTACKS`), named here so that the
# gates a dataset audit offers are known without importing the attacks.
RELEASE_ATTACKS: tuple[str, ...] = ("domias", "dcr_calibrated")
# Those that calibrate against shadow releases of the user's generator
# (`auditor.attacks.records.shadow_releases.SHADOW_ATTACKS`; `[artifact] generate`).
SHADOW_RELEASE_ATTACKS: tuple[str, ...] = ("lira_releases", "shadow_classifier")
