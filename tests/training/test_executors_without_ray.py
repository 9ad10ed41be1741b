"""Without Ray installed, everything else works and asking for Ray says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from auditor.config.overrides import with_executor
from auditor.config.spec import load_spec
from auditor.errors import AuditInputError

INSTALL = 'pip install ".[ray]"'


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError


def test_in_process_never_imports_ray() -> None:
    code = (
        "import sys, numpy as np\n"
        "from auditor.training.executors import make_executor\n"
        "from auditor.training.references import train_task\n"
        "import auditor.orchestration.run, auditor.cli\n"
        "assert make_executor('in_process').device_type('cpu') == 'cpu'\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_spec_asking_for_ray_says_how_to_install_it(
    no_ray: None, demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    source = demo_specs["supervised"]
    spec = source.with_name("on_ray.toml")
    spec.write_text(source.read_text() + '\n[executor]\nname = "ray"\n')
    with pytest.raises(AuditInputError) as info:
        load_spec(spec)
    (problem,) = info.value.problems
    assert problem.field == "executor.name" and INSTALL in problem.fix
    plain = load_spec(source)  # the same spec without [executor] still loads
    with pytest.raises(AuditInputError) as info:
        with_executor(plain, "ray", "127.0.0.1:6379")
    assert info.value.problems[0].field == "--executor"


def test_cli_executor_ray_without_ray_exits_2_with_the_install_command(
    no_ray: None, demo_specs: dict[str, Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from auditor.cli import app

    result = CliRunner().invoke(
        app, ["run", str(demo_specs["supervised"]), "--out", str(tmp_path), "--executor", "ray"]
    )
    assert result.exit_code == 2
    assert INSTALL in result.output and "--executor" in result.output
    assert not (tmp_path / "result.json").exists()


def test_bad_executor_settings_are_refused(demo_specs: dict[str, Path]) -> None:
    source = demo_specs["supervised"]
    spec = source.with_name("bad_executor.toml")
    spec.write_text(
        source.read_text() + '\n[executor]\nname = "spark"\naddress = ""\ncpus_per_task = 0\n'
    )
    with pytest.raises(AuditInputError) as info:
        load_spec(spec)
    fields = {p.field for p in info.value.problems}
    assert fields == {"executor.name", "executor.address", "executor.cpus_per_task"}
