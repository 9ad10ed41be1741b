"""The bad-input catalogue of the newer surface: `init` on broken model files, the Python
API's arguments, and the user's training function (`train=`). Each case ends in
AuditInputError / exit 2 naming the file or argument and the field, with a fix, no
traceback, no quoted record value, and nothing left behind."""

from __future__ import annotations

import contextlib
import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_bad_input import flat
from typer.testing import Result

from auditor.data.raw import RawTable
from auditor.errors import AuditInputError
from auditor.training.recipes.user import VERBOSE_ENV, UserTraining

SECRET = "Jane Doe 1953"  # a value a training error might quote; never shown


def _records(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "patient_id": np.arange(n),
            "age": rng.normal(60, 10, n).round(1),
            "sex": rng.choice(["f", "m"], n),
            "death": np.arange(n) % 2,
        }
    )


@pytest.fixture
def csvs(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for i, split in enumerate(("members", "non_members", "test", "population")):
        paths[split] = tmp_path / f"{split}.csv"
        frame = _records()
        frame["patient_id"] += 1000 * i  # each patient in one split
        frame.to_csv(paths[split], index=False)
    return paths


BROKEN_MODELS = {
    "random.skops": os.urandom(300),
    "random.onnx": os.urandom(300),
    "broken.txt": b"tree\nversion=v4\nnum_class=1\nnot a model",
}


@pytest.mark.parametrize("name", sorted(BROKEN_MODELS))
def test_init_on_a_broken_model_file(
    name: str, csvs: dict[str, Path], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    if name.endswith(".txt"):
        pytest.importorskip("lightgbm")
    model = tmp_path / name
    model.write_bytes(BROKEN_MODELS[name])
    before = sorted(tmp_path.iterdir())
    splits = [f"--{k.replace('_', '-')}={v}" for k, v in csvs.items()]
    result = cli("init", model, *splits, "--spec", tmp_path / "a.toml", "--sensitive", "sex")
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert name in output and "[artifact.path]" in output and "Fix:" in output
    assert "Traceback" not in result.output
    assert sorted(tmp_path.iterdir()) == before


def _skops_model(tmp_path: Path) -> Path:
    import skops.io
    from sklearn.linear_model import LogisticRegression

    frame = _records()
    model = LogisticRegression().fit(frame[["age"]], frame["death"])
    path = tmp_path / "m.skops"
    skops.io.dump(model, str(path))
    return path


@pytest.mark.parametrize("where", ["read-only folder", "a folder"])
def test_init_spec_that_cannot_be_written_leaves_no_metadata(
    where: str, csvs: dict[str, Path], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    model = _skops_model(tmp_path)
    if where == "a folder":
        spec = tmp_path / "specs"
        spec.mkdir()
    else:  # a folder no one can write to, root included
        spec = Path("/proc/auditor-no-such-folder/a.toml")
    splits = [f"--{k.replace('_', '-')}={v}" for k, v in csvs.items()]
    args = ["init", model, *splits, "--spec", spec, "--sensitive", "sex", "--force"]
    result = cli(*args)
    assert result.exit_code == 2, flat(result.output)
    assert "[--spec]" in flat(result.output)
    assert not model.with_name(model.name + ".meta.json").exists()


API_CASES = {
    "members-a-list": ({"members": [1, 2, 3]}, "members"),
    "missing-csv": ({"test": "no/such.csv"}, "test"),
    "bootstrap-text": ({"bootstrap": "many"}, "bootstrap"),
    "seed-bool": ({"seed": True}, "seed"),
    "sensitive-a-number": ({"sensitive": 3}, "sensitive"),
    "gate-not-a-mapping": ({"gates": {"privacy.loss.auc": 0.6}}, "gates"),
    "gate-bound-word": ({"gates": {"privacy.loss.auc": {"max": "high"}}}, "gates"),
    "missing-model": ({"model": "no/such.skops"}, "model"),
}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_api_arguments_are_checked(case: str, csvs: dict[str, Path], tmp_path: Path) -> None:
    import auditor

    changes, field = API_CASES[case]
    arguments: dict[str, Any] = {"model": _skops_model(tmp_path), **csvs, "progress": False}
    arguments |= {"sensitive": ["sex"], "attacks": ["loss"], "bootstrap": 50}
    arguments.update(changes)
    model = arguments.pop("model")
    with pytest.raises(AuditInputError) as raised:
        auditor.audit(model, **arguments)
    problems = raised.value.problems
    assert any(field in p.field for p in problems), [str(p) for p in problems]
    assert all(p.fix for p in problems)


def test_api_passes_the_specs_gate_syntax(csvs: dict[str, Path], tmp_path: Path) -> None:
    """`bound = "upper"` is the spec's own gate syntax; the API now passes it through."""
    import auditor

    result = auditor.audit(
        _skops_model(tmp_path),
        **csvs,
        sensitive="sex",  # one name, not three letters
        attacks=["loss"],
        bootstrap=50,
        progress=False,
        gates={"privacy.loss.auc": {"max": 0.99, "bound": "upper"}},
    )
    gate = result.gates[0]
    assert gate["bound"] == "upper" and gate["observed"] is not None
    assert list(result.document["fairness"]) == ["sex"]


# The user's training functions (this module is importable as `test_bad_input_new_surface`).
def raises(records: pd.DataFrame, labels: pd.Series) -> Any:
    raise RuntimeError(f"cannot parse {SECRET}")


def three_classes(records: pd.DataFrame, labels: pd.Series) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer([("age", "passthrough", ["age"]), ("sex", OneHotEncoder(), ["sex"])])
    model = Pipeline([("prep", prep), ("model", LogisticRegression())])
    return model.fit(records, np.arange(len(labels)) % 3)


def clusters(records: pd.DataFrame, labels: pd.Series) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(2, n_init=1, random_state=0).fit(records[["age"]])


STEPS: list[str] = []  # what the sleeping training functions got through before the stop


def sleeps(records: pd.DataFrame, labels: pd.Series) -> Any:
    """Half a minute of sleep in steps, each recorded."""
    for _ in range(60):
        time.sleep(0.5)
        STEPS.append("sleeps")


def _table() -> RawTable:
    frame = _records()
    return RawTable.build([frame], ("age", "sex"))


def _steps(name: str) -> int:
    """How many steps `name` recorded, in the module object the auditor imported."""
    module = importlib.import_module(__name__.rsplit(".", 1)[-1])
    return module.STEPS.count(name)


def _user(name: str, timeout: float = 600.0) -> UserTraining:
    module = __name__.rsplit(".", 1)[-1]
    return UserTraining.resolve(f"{module}:{name}", _table(), "spec.toml", 2, timeout)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("raises", "raised RuntimeError at test_bad_input_new_surface.py:"),
        ("three_classes", "3 outputs; the audited model has 2"),
        ("clusters", "returned a KMeans that cannot be queried"),
    ],
)
def test_a_failing_training_function_is_bad_input(
    name: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    monkeypatch.delenv(VERBOSE_ENV, raising=False)
    table = _table()
    x = table.encoding.encode(table.frame)
    with pytest.raises(AuditInputError) as raised:
        _user(name).fit(x, np.arange(len(x)) % 2, seed=0)
    text = str(raised.value)
    assert expected in text and "[artifact.train]" in text, text
    assert SECRET not in text
    if name == "raises":  # the message only on request
        monkeypatch.setenv(VERBOSE_ENV, "1")
        with pytest.raises(AuditInputError, match=SECRET):
            _user(name).fit(x, np.arange(len(x)) % 2, seed=0)


def test_a_builtin_is_not_training_code() -> None:
    with pytest.raises(AuditInputError, match="no Python source"):
        UserTraining.resolve("builtins:len", _table(), "spec.toml")


def test_a_training_function_that_sleeps_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    table = _table()
    x = table.encoding.encode(table.frame)
    with pytest.raises(AuditInputError, match=r"did not return within 0\.5 s"):
        _user("sleeps", timeout=0.5).fit(x, np.arange(len(x)) % 2, seed=0)
    assert _steps("sleeps") < 60  # stopped, not run to its end


def test_a_cache_folder_that_cannot_be_written_is_found_by_validate(
    make_tree: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Result],
) -> None:
    """Found before anything trains (it used to surface 55 s into a run)."""
    tree = make_tree()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(blocker))
    result = cli("validate", tree.spec("supervised"))
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "[AUDITOR_CACHE_DIR]" in output and "cache = false" in output
    assert blocker.read_text() == "not a folder\n"


def _resave_condensed(tree: Any, *, one_class: bool = False, **changes: Any) -> Path:
    """The demo tree's condensed set saved again with `changes` to its metadata (recipe,
    params), or with the records of its first record's class only; returns its spec."""
    from auditor.artifacts.datasets import load_dataset, save_dataset
    from auditor.config.spec import load_spec

    spec = tree.spec("condense")
    path = tree.artifact("condense.safetensors")
    released = load_dataset(path, label=load_spec(spec).data.label)
    keep = released.y == released.y[0] if one_class else np.ones(len(released.y), bool)
    stored = {"recipe": released.recipe, "params": released.params, **changes}
    save_dataset(
        released.x[keep], released.y[keep], encoding=released.encoding, seed=0, path=path, **stored
    )
    return spec


def test_a_dataset_naming_a_model_recipe_is_refused_at_validate(
    make_tree: Callable[..., Any], cli: Callable[..., Result]
) -> None:
    spec = _resave_condensed(make_tree(), recipe="supervised", params={})
    result = cli("validate", spec)
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "[recipe] is 'supervised', a recipe that releases a model" in output


def test_text_in_a_numeric_column_is_found_by_validate_without_quoting_it(
    csvs: dict[str, Path], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    model = _skops_model(tmp_path)  # reads the raw column `age`
    splits = [f"--{k.replace('_', '-')}={v}" for k, v in csvs.items()]
    spec = tmp_path / "audit.toml"
    assert cli("init", model, *splits, "--spec", spec, "--sensitive", "sex").exit_code == 0
    frame = pd.read_csv(csvs["test"])
    frame["age"] = frame["age"].astype(object)
    frame.loc[6, "age"] = SECRET
    frame.to_csv(csvs["test"], index=False)
    result = cli("validate", spec)
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "test.csv: [age] holds text in row 8" in output
    assert SECRET not in output


def _init(cli: Callable[..., Result], model: Path, csvs: dict[str, Path], *extra: Any) -> Result:
    splits = [f"--{k.replace('_', '-')}={v}" for k, v in csvs.items()]
    spec = model.parent / "init.toml"
    return cli("init", model, *splits, "--spec", spec, *extra)


def test_init_refuses_what_run_would_refuse(
    csvs: dict[str, Path], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """Repeated and blank headers (pandas would read `age.1`, `Unnamed: 4`), True/False
    labels, classes the model does not have, and sensitive columns the data lacks."""
    model = _skops_model(tmp_path)
    members = csvs["members"]
    text = members.read_text()
    cases = {
        "repeated header": (text.replace("sex,", "age,", 1), (), "header columns 2 and 3"),
        "blank header": (text.replace("sex,", ",", 1), (), "header column 3 has an empty name"),
        "true/false label": (
            _records().assign(death=lambda f: f["death"] == 1).to_csv(index=False),
            (),
            "encode the outcome as 0/1",
        ),
        "three classes": (
            _records().assign(death=np.arange(40) % 3).to_csv(index=False),
            (),
            "has 2 outputs, but 'death' in members.csv has 3 classes",
        ),
        "unknown sensitive": (text, ("--sensitive", "nosuchcol"), "[--sensitive] names 1 columns"),
        "repeated id": (
            _records().assign(patient_id=0).to_csv(index=False),
            (),
            "[patient_id] has blank or repeated patient ids",
        ),
    }
    for name, (content, extra, expected) in cases.items():
        members.write_text(content)
        result = _init(cli, model, csvs, *(extra or ("--sensitive", "sex")))
        output = flat(result.output)
        assert result.exit_code == 2, (name, output)
        assert expected in output, (name, output)
        assert not (tmp_path / "init.toml").exists(), name
        assert not model.with_name(model.name + ".meta.json").exists(), name


def test_dp_audit_that_would_not_end_is_refused(
    make_tree: Callable[..., Any], cli: Callable[..., Result]
) -> None:
    spec = make_tree().spec("dp_sgd")
    result = cli("dp-audit", spec, "--runs", "4096", "--per-run", "3000")
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "4096 runs x 3000 canaries = 12,288,000 canaries" in output


def test_a_stored_parameter_of_the_wrong_type_is_refused_though_unread() -> None:
    from auditor.training.recipes import stored_params

    with pytest.raises(AuditInputError, match=r"\[settings\.hidden\] must be a list"):
        stored_params("stimuli", {"hidden": 5}, legacy=True, where="x.json", field="settings")


def test_a_one_class_release_is_refused(
    make_tree: Callable[..., Any], cli: Callable[..., Result]
) -> None:
    spec = _resave_condensed(make_tree(), one_class=True)
    result = cli("validate", spec)
    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "holds one class only" in output


def swallows(records: pd.DataFrame, labels: pd.Series) -> Any:
    """Sleeps inside a broad `except Exception`, as training loops with retries do."""
    for _ in range(60):
        with contextlib.suppress(Exception):  # the deadline must not end up here
            time.sleep(0.5)
        STEPS.append("swallows")


def test_a_deadline_is_not_swallowed_by_the_users_except(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    table = _table()
    x = table.encoding.encode(table.frame)
    with pytest.raises(AuditInputError, match="did not return within"):
        _user("swallows", timeout=0.5).fit(x, np.arange(len(x)) % 2, seed=0)
    assert _steps("swallows") < 60  # stopped, not run to its end
