"""The README's option lists follow the registries: every attack, recipe, artifact kind and
executor the code registers is documented there as a code name."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.artifacts import KINDS
from auditor.attacks import ATTACKS
from auditor.training.executors import EXECUTORS
from auditor.training.recipes import RECIPES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_registered_name_is_documented() -> None:
    # As a whole word in a code span or a spec line, not as part of another word.
    missing = [
        name
        for name in (*ATTACKS, *RECIPES, *KINDS, *EXECUTORS)
        if not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", README)
    ]
    assert not missing, f"not in README: {missing}"
