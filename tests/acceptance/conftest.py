"""Helpers for the CLI acceptance tests: private copies of the demo fixture tree and a runner.

The session fixture `demo_specs` (tests/conftest.py) is shared by every test module, so the
tests here never touch it: each one that edits inputs works on its own copy of the tree.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from auditor.cli import app

ALL_ATTACKS_LINE = re.compile(r"^run = \[.*\]$", re.MULTILINE)


@dataclass(frozen=True)
class DemoTree:
    """A private copy of the demo tree (data/, artifacts/, specs/)."""

    root: Path

    def spec(self, name: str) -> Path:
        return self.root / "specs" / f"{name}.toml"

    def data(self, split: str) -> Path:
        return self.root / "data" / f"{split}.csv"

    def artifact(self, file_name: str) -> Path:
        return self.root / "artifacts" / file_name


def set_attacks(spec: Path, attacks: list[str]) -> None:
    """Replace the spec's `[attacks] run = [...]` line."""
    text = spec.read_text(encoding="utf-8")
    listed = ", ".join(f'"{a}"' for a in attacks)
    new, count = ALL_ATTACKS_LINE.subn(f"run = [{listed}]", text)
    assert count == 1, f"no single `run = [...]` line in {spec}"
    spec.write_text(new, encoding="utf-8")


@pytest.fixture(scope="session")
def copy_demo(demo_specs: dict[str, Path]) -> Callable[..., DemoTree]:
    """Copy the demo tree to `dest`, every spec's attacks reduced to `attacks` (["loss"]).

    The overfit fixture's 14 MB forest is left out unless `overfit=True`.
    """
    source = demo_specs["supervised"].parent.parent

    def copy(dest: Path, *, attacks: list[str] | None = None, overfit: bool = False) -> DemoTree:
        ignore = None if overfit else shutil.ignore_patterns("overfit.*")
        tree = DemoTree(Path(shutil.copytree(source, dest, ignore=ignore)))
        for spec in (tree.root / "specs").glob("*.toml"):
            set_attacks(spec, attacks or ["loss"])
        return tree

    return copy


@pytest.fixture
def make_tree(copy_demo: Callable[..., DemoTree], tmp_path: Path) -> Callable[..., DemoTree]:
    """`copy_demo` into tmp_path/`name`."""

    def make(name: str = "demo", **options: object) -> DemoTree:
        return copy_demo(tmp_path / name, **options)

    return make


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Invoke `auditor ARGS...` in-process; wide columns so that messages are not wrapped."""
    runner = CliRunner(env={"COLUMNS": "250"})

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(a) for a in args])

    return invoke
