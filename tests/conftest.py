"""Shared fixtures: the demo fixtures built once per session on the embedded SUPPORT2 data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Messages printed by rich wrap at the terminal width (80 columns without one); xdist's
# temporary folders are deep enough to wrap a file name across lines. Tests read the
# messages, not the layout.
os.environ.setdefault("COLUMNS", "250")

# Under pytest-xdist (the README's test command runs 2 workers) each worker gets its share of
# the cores for torch, so that workers do not oversubscribe the machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import torch

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))

# Fewer bootstrap replicates than the demo's 1000 keep the suite fast; every statistical
# assertion below compares an interval end, which these replicates estimate well enough.
TEST_BOOTSTRAP = 200
TEST_REFERENCE_MODELS = 32
SEED = 7


@pytest.fixture(scope="session", autouse=True)
def reference_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh reference-model cache for the session, never the user's."""
    folder = tmp_path_factory.mktemp("reference-cache")
    before = os.environ.get("AUDITOR_CACHE_DIR")
    os.environ["AUDITOR_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        del os.environ["AUDITOR_CACHE_DIR"]
    else:
        os.environ["AUDITOR_CACHE_DIR"] = before


@pytest.fixture(scope="session")
def demo_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Spec paths by fixture name (supervised, overfit, mimic, dp_sgd, population)."""
    from auditor.demo import build_fixtures

    return build_fixtures(
        tmp_path_factory.mktemp("demo"),
        seed=SEED,
        bootstrap=TEST_BOOTSTRAP,
        reference_models=TEST_REFERENCE_MODELS,
    )


@pytest.fixture(scope="session")
def demo_results(demo_specs: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Result documents by fixture name, each audit run once per session (lazily)."""
    from auditor.config.spec import load_spec
    from auditor.orchestration.run import run_audit

    class Lazy(dict):
        def __missing__(self, name: str) -> dict[str, Any]:
            self[name] = run_audit(load_spec(demo_specs[name])).result
            return self[name]

    return Lazy()
