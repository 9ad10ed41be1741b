"""`auditor init` proposes as sensitive only columns that hold groups: not a measurement
whose name matches (a numeric column of many values), and not the two-valued one-hot columns
of one feature (RHC's 15 standardised `fac_income_*` / `ninsclas_*` columns were proposed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.init import sensitive_columns


def test_only_columns_that_hold_groups_are_proposed() -> None:
    rng = np.random.default_rng(0)
    n = 300
    income = rng.choice(["low", "mid", "high"], n)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n),
            "race": rng.integers(0, 5, n),  # coded groups
            "income_score": rng.normal(size=n),  # a measurement whose name says income
            # standardised one-hot columns of one feature, as an exported design matrix has
            **{f"fac_income_{level}": ((income == level) - 0.33) / 0.47 for level in set(income)},
            "insurance": rng.choice(["medicare", "private"], n),
            "sps": rng.normal(size=n),  # not a sensitive name at all
        }
    )
    proposed, skipped = sensitive_columns(frame, list(frame.columns))
    assert proposed == ["sex", "race", "insurance"], proposed
    assert any(s.startswith("income_score (a measurement") for s in skipped), skipped
    one_hot = [s for s in skipped if "one-hot column of fac_income" in s]
    assert len(one_hot) == 3, skipped
    # a single two-valued column with a sensitive name is a group (a binary sex column)
    alone, _ = sensitive_columns(frame[["fac_income_low"]], ["fac_income_low"])
    assert alone == ["fac_income_low"]
