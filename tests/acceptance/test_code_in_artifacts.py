"""Security regressions: an artifact runs no code of its own without the user's consent, and
the auditor touches no file outside its outputs.

Each hostile artifact here really acts when it is allowed to (the consent tests show it),
so the refusals are what keeps the victim files whole.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from test_bad_input import flat, point_artifact_at, safetensors_metadata_text
from typer.testing import Result

from auditor.errors import AuditInputError

PRECIOUS = b"precious bytes"


class _MapsOnQuery(torch.nn.Module):
    """Maps the victim file read-write and overwrites it on every forward pass."""

    def __init__(self, victim: str, width: int) -> None:
        super().__init__()
        self.victim = victim
        self.lin = torch.nn.Linear(width, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.from_file(self.victim, shared=True, size=4, dtype=torch.uint8)
        t.fill_(88)
        return self.lin(x) + 0.0 * t.sum().to(x.dtype)


class _MapsOnLoad(torch.nn.Module):
    """Overwrites the victim file from its exported `__setstate__`, i.e. while being loaded."""

    def __init__(self, victim: str, width: int) -> None:
        super().__init__()
        self.victim = victim
        self.w = torch.zeros(2, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.t()

    @torch.jit.export
    def __getstate__(self) -> tuple[str, torch.Tensor, bool]:
        return (self.victim, self.w, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, torch.Tensor, bool]) -> None:
        self.victim = state[0]
        t = torch.from_file(self.victim, shared=True, size=4, dtype=torch.uint8)
        t.fill_(89)
        self.w = state[1] + 0.0 * t.sum().to(torch.float32)
        self.training = state[2]


HOSTILE = {"forward": _MapsOnQuery, "setstate": _MapsOnLoad}


def _hostile_torchscript(tree: Any, kind: str, victim: Path) -> Path:
    meta = json.loads(safetensors_metadata_text(tree))
    path = tree.artifact("model.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = HOSTILE[kind](str(victim), int(meta["n_features"]))
        torch.jit.script(module).save(str(path))
    tree.artifact("model.pt.meta.json").write_text(json.dumps(meta))
    point_artifact_at(tree.spec("supervised"), "../artifacts/model.pt")
    return path


def _listing(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_torchscript_runs_nothing_without_consent(
    kind: str, make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    victim = tmp_path / "victim.bin"
    victim.write_bytes(PRECIOUS)
    model = _hostile_torchscript(tree, kind, victim)
    spec = tree.spec("supervised")
    data = [f"--{s.replace('_', '-')}={tree.data(s)}" for s in ("members", "non_members")]
    data += [f"--{s}={tree.data(s)}" for s in ("test", "population")]
    before = _listing(tmp_path)
    calls = [
        ("validate", spec),
        ("run", spec, "--out", tmp_path / "out"),
        ("init", model, *data, "--spec", tmp_path / "init.toml", "--sensitive", "sex"),
    ]
    for args in calls:
        result = cli(*args)
        output = flat(result.output)
        assert result.exit_code == 2, (args[0], output)
        assert "TorchScript" in output and "--allow-code" in output, output
        assert "Traceback" not in output
    assert victim.read_bytes() == PRECIOUS
    assert _listing(tmp_path) == before, "a refused run left files behind"


def test_with_consent_the_same_torchscript_does_act(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The opt-in reaches the loader: the file's own code then runs (and writes)."""
    tree = make_tree()
    victim = tmp_path / "victim.bin"
    victim.write_bytes(PRECIOUS)
    _hostile_torchscript(tree, "setstate", victim)
    result = cli("validate", tree.spec("supervised"), "--allow-code")
    assert result.exit_code == 0, flat(result.output)
    assert victim.read_bytes() != PRECIOUS


def _frame(n: int = 60) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return frame, (frame["a"] > 0).to_numpy().astype(int)


def _pipeline(step: Any, path: Path, **after_fit: Any) -> Path:
    """A fitted Pipeline of `step` and a logistic regression, saved with skops; `after_fit`
    sets the step's parameters once fitted (a hostile release edits a fitted model)."""
    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    frame, y = _frame()
    model = Pipeline([("step", step), ("model", LogisticRegression())]).fit(frame, y)
    model.named_steps["step"].set_params(**after_fit)
    skops.io.dump(model, str(path))
    return path


def _writer(leak: Path) -> dict[str, Any]:
    """FunctionTransformer parameters that write the records it transforms to `leak`."""
    from sklearn.datasets import dump_svmlight_file

    return {"func": dump_svmlight_file, "kw_args": {"y": _frame()[1], "f": str(leak)}}


def test_skops_functions_that_act_on_files_are_refused(tmp_path: Path) -> None:
    """`sklearn.` and `numpy.` prefixes are no longer trusted: a FunctionTransformer calling
    dump_svmlight_file (writes the records it is given) or numpy.resize is refused."""
    from sklearn.preprocessing import FunctionTransformer

    from auditor.artifacts.formats.skops import read as load_skops

    leak = tmp_path / "leaked.svmlight"
    writing = _pipeline(FunctionTransformer(), tmp_path / "writes.skops", **_writer(leak))
    resizing = _pipeline(
        FunctionTransformer(np.resize, kw_args={"new_shape": (60, 2)}), tmp_path / "r.skops"
    )
    for path, name in ((writing, "dump_svmlight_file"), (resizing, "numpy.resize")):
        with pytest.raises(AuditInputError, match="trusted_functions") as raised:
            load_skops(path)
        assert name in str(raised.value)
    assert not leak.exists()


def test_cli_init_refuses_a_skops_function_and_writes_nothing(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    from sklearn.preprocessing import FunctionTransformer

    leak = tmp_path / "leaked.svmlight"
    model = _pipeline(FunctionTransformer(), tmp_path / "m.skops", **_writer(leak))
    frame, y = _frame()
    table = frame.assign(death=y, patient_id=np.arange(len(y)))
    csv = tmp_path / "records.csv"
    table.to_csv(csv, index=False)
    before = _listing(tmp_path)
    splits = [f"--{s}={csv}" for s in ("members", "non-members", "test", "population")]
    result = cli("init", model, *splits, "--spec", tmp_path / "audit.toml", "--sensitive", "")
    assert result.exit_code == 2, flat(result.output)
    assert "trusted_functions" in flat(result.output)
    assert _listing(tmp_path) == before
    assert not leak.exists()


def test_a_function_the_user_names_is_loaded(tmp_path: Path) -> None:
    """FunctionTransformer(numpy.log1p): refused until the user names numpy.log1p."""
    from sklearn.preprocessing import FunctionTransformer

    from auditor.artifacts.formats.skops import read as load_skops

    path = _pipeline(FunctionTransformer(np.abs), tmp_path / "abs.skops")
    with pytest.raises(AuditInputError, match=r"numpy\.absolute"):
        load_skops(path)
    model = load_skops(path, ("numpy.absolute",))
    frame, _ = _frame()
    assert model.predict_proba(frame).shape == (len(frame), 2)


def test_cache_clear_deletes_only_its_own_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Result]
) -> None:
    from auditor.training.cache import DiskCache

    models = tmp_path / "models"
    models.mkdir()
    (models / "mine.safetensors").write_bytes(PRECIOUS)
    (models / "notes.txt").write_bytes(PRECIOUS)
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(models))
    result = cli("cache", "--clear")
    assert result.exit_code == 2, flat(result.output)
    assert "AUDITOR_CACHE_DIR" in flat(result.output)
    assert sorted(p.name for p in models.iterdir()) == ["mine.safetensors", "notes.txt"]

    # the same folder once the cache has written into it: only the cache's entries go
    cache = DiskCache(models)
    cache.put("ab" * 32, {"x": np.zeros(3, np.float32)}, "a test entry")
    assert len(cache.entries()) == 1
    result = cli("cache", "--clear")
    assert result.exit_code == 0, flat(result.output)
    assert sorted(p.name for p in models.iterdir()) == [
        "CACHEDIR.TAG",
        "mine.safetensors",
        "notes.txt",
    ]
    assert (models / "mine.safetensors").read_bytes() == PRECIOUS


def test_keygen_never_replaces_half_a_pair(tmp_path: Path, cli: Callable[..., Result]) -> None:
    pytest.importorskip("cryptography")
    public = tmp_path / "signer.pub.pem"
    public.write_bytes(PRECIOUS)
    result = cli("keygen", "--out", tmp_path / "signer.pem")
    assert result.exit_code == 2, flat(result.output)
    assert public.read_bytes() == PRECIOUS
    assert not (tmp_path / "signer.pem").exists()
    # a missing folder is created, not a traceback
    result = cli("keygen", "--out", tmp_path / "new" / "k.pem")
    assert result.exit_code == 0, flat(result.output)
    assert (tmp_path / "new" / "k.pub.pem").is_file()


def test_api_workdir_never_overwrites_the_users_files(tmp_path: Path) -> None:
    import auditor

    work = tmp_path / "work"
    work.mkdir()
    mine = {name: work / name for name in ("audit.toml", "members.csv", "model.skops.meta.json")}
    for path in mine.values():
        path.write_bytes(PRECIOUS)
    frame, _ = _frame()
    with pytest.raises(AuditInputError, match="workdir"):
        auditor.audit(
            tmp_path / "absent.skops",
            members=frame,
            non_members=frame,
            test=frame,
            population=frame,
            workdir=work,
            progress=False,
        )
    assert all(path.read_bytes() == PRECIOUS for path in mine.values())
    assert sorted(os.listdir(work)) == sorted(mine)


def test_outputs_never_replace_a_file_the_auditor_did_not_write(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_bytes(PRECIOUS)
    page = tmp_path / "page.html"
    page.write_bytes(PRECIOUS)
    junit = tmp_path / "gates.xml"
    junit.write_bytes(PRECIOUS)
    spec = tree.spec("supervised")
    for args in (
        ("run", spec, "--out", out),
        ("run", spec, "--out", tmp_path / "fresh", "--junit", junit),
        ("demo", "--out", out),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, flat(result.output))
        assert "--force" in flat(result.output), flat(result.output)
    assert (out / "result.json").read_bytes() == PRECIOUS
    assert junit.read_bytes() == PRECIOUS
    assert not (tmp_path / "fresh").exists()


def test_a_page_is_replaced_only_when_the_auditor_wrote_it(tmp_path: Path) -> None:
    """`report --out`, `compare --out` and `AuditResult.write_report` share this check."""
    from auditor.core.outputs import GENERATOR, output_problems
    from auditor.report.compare import render_comparison

    page = tmp_path / "page.html"
    page.write_bytes(PRECIOUS)
    problems = output_problems(page, field="--out", folder=False)
    assert problems and "--force" in problems[0].fix
    assert output_problems(page, field="--out", folder=False, force=True) == []
    page.write_text(render_comparison([]))
    assert GENERATOR in page.read_text()
    assert output_problems(page, field="--out", folder=False) == []
    pipe = tmp_path / "pipe.html"  # never opened to be checked: a FIFO would block
    os.mkfifo(pipe)
    assert output_problems(pipe, field="--out", folder=False)
