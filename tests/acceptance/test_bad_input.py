"""Acceptance tests: every kind of bad input to `auditor run` is refused with exit code 2, a
message naming the file, the field and the fix, no traceback, and no output written."""

from __future__ import annotations

import csv
import json
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

# An edit takes the copied demo tree and its supervised spec (attacks: loss only).
Edit = Callable[[Any, Path], None]


def flat(text: str) -> str:
    """Output with line wrapping undone (runs of whitespace -> one space)."""
    return " ".join(text.split())


def replace_in(path: Path, old: str, new: str) -> None:
    """Replace the single occurrence of `old` in a text file (fails loudly otherwise)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV's header and rows, cells as written (no type round trip through pandas)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    header, rows = read_rows(path)
    assert column in header
    rows[row][column] = value
    write_rows(path, header, rows)


def rename_column(path: Path, old: str, new: str) -> None:
    header, rows = read_rows(path)
    renamed = [new if h == old else h for h in header]
    write_rows(path, renamed, [dict(zip(renamed, r.values(), strict=True)) for r in rows])


def drop_column(path: Path, column: str) -> None:
    header, rows = read_rows(path)
    for r in rows:
        del r[column]
    write_rows(path, [h for h in header if h != column], rows)


def point_artifact_at(spec: Path, relative: str) -> None:
    replace_in(spec, 'path = "../artifacts/supervised.safetensors"', f'path = "{relative}"')


def edit_safetensors_metadata(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite a safetensors artifact with its "auditor" metadata header changed."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as handle:
        header = dict(handle.metadata())
    meta = json.loads(header["auditor"])
    change(meta)
    header["auditor"] = json.dumps(meta, sort_keys=True)
    save_file(load_file(str(path)), str(path), metadata=header)


class Unpickled:
    """Unpickling this creates the folder `marker`: proof that the file was unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (self.marker,)


def fed_values(tree: Any) -> set[str]:
    """Cell values of every data file in the tree that a message could be recognised to
    quote: patient ids, decimals of six or more characters, values with $ < > or &."""
    values = set()
    for path in sorted((tree.root / "data").glob("*.csv")):
        try:
            _, rows = read_rows(path)
        except (OSError, UnicodeDecodeError, csv.Error):  # links the case broke on purpose
            continue
        for row in rows:
            for cell in row.values():
                cell = str(cell or "")
                recognisable = (
                    cell.startswith("S2-")
                    or (len(cell) >= 6 and "." in cell and any(c.isdigit() for c in cell))
                    or any(c in cell for c in "$<>&")
                )
                if recognisable:
                    values.add(cell)
    return values


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


# --- the edits -------------------------------------------------------------------------


def missing_file(tree: Any, spec: Path) -> None:
    replace_in(spec, 'test = "../data/test.csv"', 'test = "../data/test_2024.csv"')


def missing_column(tree: Any, spec: Path) -> None:
    drop_column(tree.data("members"), "meanbp")


def non_binary_label(tree: Any, spec: Path) -> None:
    set_cell(tree.data("test"), 5, "death", "2")


def nan_in_features(tree: Any, spec: Path) -> None:
    set_cell(tree.data("population"), 17, "meanbp", "")


def _drop_first_numeric(meta: dict[str, Any]) -> None:
    assert meta["encoding"]["numeric"][0]["name"] == "age"
    del meta["encoding"]["numeric"][0]


def encoding_drops_a_feature(tree: Any, spec: Path) -> None:
    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), _drop_first_numeric)


def encoding_and_width_drop_a_feature(tree: Any, spec: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        _drop_first_numeric(meta)
        meta["n_features"] -= 1  # self-consistent metadata, but not the weights' width

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)


def safetensors_metadata_text(tree: Any) -> str:
    from safetensors import safe_open

    with safe_open(str(tree.artifact("supervised.safetensors")), framework="pt") as handle:
        return str(handle.metadata()["auditor"])


def pickle_without_opt_in(tree: Any, spec: Path) -> None:
    marker = tree.root / "unpickled"
    with tree.artifact("model.pkl").open("wb") as handle:
        pickle.dump(Unpickled(str(marker)), handle)
    # A valid sidecar: nothing but the missing opt-in stands between the file and pickle.load.
    tree.artifact("model.pkl.meta.json").write_text(safetensors_metadata_text(tree))
    point_artifact_at(spec, "../artifacts/model.pkl")


def unknown_attack(tree: Any, spec: Path) -> None:
    replace_in(spec, 'run = ["loss"]', 'run = ["loss", "nosuch"]')


def gate_on_unknown_metric(tree: Any, spec: Path) -> None:
    append(spec, '"privacy.loss.nosuch" = { max = 0.5 }\n')


def malformed_toml(tree: Any, spec: Path) -> None:
    replace_in(spec, "bootstrap = 200", "bootstrap = = 200")


def control_characters_in_column_name(tree: Any, spec: Path) -> None:
    # Markup in a name is fine (escaped where rendered); a terminal escape is not.
    rename_column(tree.data("non_members"), "meanbp", "meanbp\x1b[2J")


def patient_in_members_and_non_members(tree: Any, spec: Path) -> None:
    header, members = read_rows(tree.data("members"))
    header_nm, non_members = read_rows(tree.data("non_members"))
    assert header == header_nm
    write_rows(tree.data("non_members"), header, [*non_members, members[3]])


def unknown_section(tree: Any, spec: Path) -> None:
    append(spec, "\n[reporting]\ntheme = 'dark'\n")


def unknown_field(tree: Any, spec: Path) -> None:
    replace_in(spec, "bootstrap = 200", "bootstrap = 200\nbootsrap = 500")


def bad_bootstrap(tree: Any, spec: Path) -> None:
    replace_in(spec, "bootstrap = 200", 'bootstrap = "many"')


def non_numeric_feature(tree: Any, spec: Path) -> None:
    set_cell(tree.data("test"), 9, "sod", "high")


def missing_label_value(tree: Any, spec: Path) -> None:
    set_cell(tree.data("members"), 0, "death", "")


def repeated_patient_id(tree: Any, spec: Path) -> None:
    header, rows = read_rows(tree.data("test"))
    write_rows(tree.data("test"), header, [*rows, rows[0]])


def not_utf8_csv(tree: Any, spec: Path) -> None:
    path = tree.data("population")
    path.write_bytes(path.read_bytes().replace(b"white", b"whit\xe9", 1))


def sensitive_column_missing(tree: Any, spec: Path) -> None:
    replace_in(spec, '"age_band"]', '"age_band", "insurer"]')


def unknown_model_format(tree: Any, spec: Path) -> None:
    tree.artifact("model.bin").write_bytes(b"\x00" * 64)
    point_artifact_at(spec, "../artifacts/model.bin")


def artifact_without_metadata(tree: Any, spec: Path) -> None:
    tree.artifact("model.onnx").write_bytes(b"\x00" * 64)
    point_artifact_at(spec, "../artifacts/model.onnx")


def metadata_version_unknown(tree: Any, spec: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["auditor_metadata_version"] = 99

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)


def corrupt_safetensors(tree: Any, spec: Path) -> None:
    path = tree.artifact("supervised.safetensors")
    path.write_bytes(path.read_bytes()[:200])


def metadata_header_not_json(tree: Any, spec: Path) -> None:
    from safetensors.torch import load_file, save_file

    path = tree.artifact("supervised.safetensors")
    save_file(load_file(str(path)), str(path), metadata={"auditor": "{not json"})


def sidecar_not_an_object(tree: Any, spec: Path) -> None:
    tree.artifact("model.onnx").write_bytes(b"\x00" * 64)
    tree.artifact("model.onnx.meta.json").write_text("[1, 2, 3]\n", encoding="utf-8")
    point_artifact_at(spec, "../artifacts/model.onnx")


def corrupt_onnx(tree: Any, spec: Path) -> None:
    tree.artifact("model.onnx").write_bytes(b"not an onnx model")
    tree.artifact("model.onnx.meta.json").write_text(safetensors_metadata_text(tree))
    point_artifact_at(spec, "../artifacts/model.onnx")


def single_class_test_labels(tree: Any, spec: Path) -> None:
    header, rows = read_rows(tree.data("test"))
    write_rows(tree.data("test"), header, [{**r, "death": "1"} for r in rows])


def header_only_csv(tree: Any, spec: Path) -> None:
    path = tree.data("members")
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def inf_in_numeric_column(tree: Any, spec: Path) -> None:
    set_cell(tree.data("test"), 3, "sod", "inf")


def members_with_one_row(tree: Any, spec: Path) -> None:
    header, rows = read_rows(tree.data("members"))
    write_rows(tree.data("members"), header, rows[:1])


def members_with_one_class(tree: Any, spec: Path) -> None:
    header, rows = read_rows(tree.data("members"))
    write_rows(tree.data("members"), header, [{**r, "death": "0"} for r in rows])


def duplicated_column_name(tree: Any, spec: Path) -> None:
    rename_column(tree.data("population"), "hrt", "meanbp")


def _numeric_entry(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(meta: dict[str, Any]) -> None:
        meta["encoding"]["numeric"][0][key] = value

    return change


def encoding_std_zero(tree: Any, spec: Path) -> None:
    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), _numeric_entry("std", 0))


def encoding_mean_nan(tree: Any, spec: Path) -> None:
    nan = float("nan")
    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), _numeric_entry("mean", nan))


def _onnx_with_sidecar(tree: Any, spec: Path, data: bytes) -> None:
    tree.artifact("model.onnx").write_bytes(b"\x00" * 64)
    tree.artifact("model.onnx.meta.json").write_bytes(data)
    point_artifact_at(spec, "../artifacts/model.onnx")


def sidecar_in_latin1(tree: Any, spec: Path) -> None:
    _onnx_with_sidecar(
        tree, spec, safetensors_metadata_text(tree).replace("age", "âge").encode("latin-1")
    )


def sidecar_in_utf16(tree: Any, spec: Path) -> None:
    _onnx_with_sidecar(tree, spec, safetensors_metadata_text(tree).encode("utf-16"))


def unknown_metadata_key(tree: Any, spec: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["claimz"] = {"epsilon": 1.0}

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)


def unknown_output_kind(tree: Any, spec: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["output"] = "banana"

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)


def typo_in_recipe_parameters(tree: Any, spec: Path) -> None:
    def change(meta: dict[str, Any]) -> None:
        meta["recipe"]["supervised"]["epochz"] = 3

    edit_safetensors_metadata(tree.artifact("supervised.safetensors"), change)


def gate_threshold_nan(tree: Any, spec: Path) -> None:
    append(spec, '"utility.accuracy" = { min = nan }\n')


def gate_threshold_infinite(tree: Any, spec: Path) -> None:
    append(spec, '"utility.accuracy" = { min = -inf }\n')


def dp_epsilon_nan(tree: Any, spec: Path) -> None:
    replace_in(spec, "[utility]", "[utility]\ndp_epsilon = nan")


def bootstrap_too_many(tree: Any, spec: Path) -> None:
    replace_in(spec, "bootstrap = 200", "bootstrap = 1000000000")


def no_attack(tree: Any, spec: Path) -> None:
    replace_in(spec, 'run = ["loss"]', "run = []")


def list_inside_attacks_run(tree: Any, spec: Path) -> None:
    replace_in(spec, 'run = ["loss"]', 'run = [["loss"]]')


def table_inside_attacks_run(tree: Any, spec: Path) -> None:
    replace_in(spec, 'run = ["loss"]', "run = [{ name = 1 }]")


def millions_of_unknown_keys(tree: Any, spec: Path) -> None:
    append(spec, "\n[junk]\n" + "".join(f"k{i} = {i}\n" for i in range(20_000)))


def symlink_loop_as_data_path(tree: Any, spec: Path) -> None:
    loop = tree.root / "data" / "loop.csv"
    loop.symlink_to(loop)
    replace_in(spec, 'test = "../data/test.csv"', 'test = "../data/loop.csv"')


def dangling_link_as_data_path(tree: Any, spec: Path) -> None:
    (tree.root / "data" / "gone.csv").symlink_to(tree.root / "data" / "deleted.csv")
    replace_in(spec, 'test = "../data/test.csv"', 'test = "../data/gone.csv"')


def overlong_file_name(tree: Any, spec: Path) -> None:
    replace_in(spec, 'test = "../data/test.csv"', f'test = "../data/{"t" * 300}.csv"')


def nul_byte_in_path(tree: Any, spec: Path) -> None:
    replace_in(spec, 'test = "../data/test.csv"', 'test = "../data/test\\u0000.csv"')


def cuda_without_a_gpu(tree: Any, spec: Path) -> None:
    replace_in(spec, "bootstrap = 200", 'bootstrap = 200\ndevice = "cuda"')


def gate_on_attribute_that_is_no_input(tree: Any, spec: Path) -> None:
    append(spec, '"privacy.attribute_inference.age_band.advantage" = { max = 0.1 }\n')


def unknown_scheme(tree: Any, spec: Path) -> None:
    replace_in(spec, "[attacks]", '[scheme]\nname = "mimick"\n\n[attacks]')


def artifact_is_a_folder(tree: Any, spec: Path) -> None:
    point_artifact_at(spec, "../data")


@dataclass(frozen=True)
class Case:
    edit: Edit
    file: str  # the file name the message must name
    field: str  # the field or column it must name
    also: tuple[str, ...] = ()  # more text it must contain


CASES = [
    pytest.param(Case(missing_file, "test_2024.csv", "data.test"), id="missing-file"),
    pytest.param(Case(missing_column, "members.csv", "meanbp", ("missing",)), id="missing-column"),
    pytest.param(Case(non_binary_label, "test.csv", "death", ("binary",)), id="non-binary-label"),
    pytest.param(Case(nan_in_features, "population.csv", "meanbp", ("NaN",)), id="nan-feature"),
    pytest.param(
        Case(encoding_drops_a_feature, "supervised.safetensors", "n_features"),
        id="feature-count-vs-metadata",
    ),
    pytest.param(
        Case(encoding_and_width_drop_a_feature, "supervised.safetensors", "architecture"),
        id="feature-count-vs-weights",
    ),
    pytest.param(
        Case(pickle_without_opt_in, "model.pkl", "artifact.path", ("--allow-code",)),
        id="pickle-without-opt-in",
    ),
    pytest.param(
        Case(unknown_attack, "supervised.toml", "attacks.run", ("nosuch",)), id="unknown-attack"
    ),
    pytest.param(
        Case(gate_on_unknown_metric, "supervised.toml", "gates.privacy.loss.nosuch"),
        id="gate-unknown-metric",
    ),
    pytest.param(Case(malformed_toml, "supervised.toml", "toml"), id="malformed-toml"),
    pytest.param(
        Case(control_characters_in_column_name, "non_members.csv", "columns", ("header column",)),
        id="control-character-in-column-name",
    ),
    pytest.param(
        Case(patient_in_members_and_non_members, "non_members.csv", "patient_id"),
        id="patient-in-both-splits",
    ),
    pytest.param(Case(unknown_section, "supervised.toml", "reporting"), id="unknown-section"),
    pytest.param(Case(unknown_field, "supervised.toml", "attacks.bootsrap"), id="unknown-field"),
    pytest.param(Case(bad_bootstrap, "supervised.toml", "attacks.bootstrap"), id="bad-bootstrap"),
    pytest.param(Case(non_numeric_feature, "test.csv", "sod"), id="non-numeric-feature"),
    pytest.param(Case(missing_label_value, "members.csv", "death"), id="missing-label-value"),
    pytest.param(Case(repeated_patient_id, "test.csv", "patient_id"), id="repeated-patient-id"),
    pytest.param(Case(not_utf8_csv, "population.csv", "csv"), id="not-utf8-csv"),
    pytest.param(
        Case(sensitive_column_missing, "members.csv", "insurer", ("data.sensitive",)),
        id="sensitive-column-missing",
    ),
    pytest.param(
        Case(unknown_model_format, "model.bin", "artifact.path"), id="unknown-model-format"
    ),
    pytest.param(
        Case(artifact_without_metadata, "model.onnx", "metadata", ("model.onnx.meta.json",)),
        id="artifact-without-metadata",
    ),
    pytest.param(
        Case(metadata_version_unknown, "supervised.safetensors", "auditor_metadata_version"),
        id="metadata-version-unknown",
    ),
    # Product bugs: each of these currently ends in an uncaught exception (exit 1, traceback)
    # or in a misleading message. See the reasons.
    pytest.param(
        Case(corrupt_safetensors, "supervised.safetensors", "artifact.path"),
        id="corrupt-safetensors",
    ),
    pytest.param(
        Case(metadata_header_not_json, "supervised.safetensors", "auditor"),
        id="metadata-header-not-json",
    ),
    pytest.param(
        Case(sidecar_not_an_object, "model.onnx.meta.json", "metadata"),
        id="sidecar-not-an-object",
    ),
    pytest.param(
        Case(corrupt_onnx, "model.onnx", "artifact.path"),
        id="corrupt-onnx",
    ),
    pytest.param(
        Case(single_class_test_labels, "test.csv", "death"),
        id="single-class-test-labels",
        marks=pytest.mark.slow,
    ),
    pytest.param(Case(inf_in_numeric_column, "test.csv", "sod", ("infinite",)), id="inf-value"),
    pytest.param(Case(members_with_one_row, "members.csv", "rows", ("at least",)), id="one-row"),
    pytest.param(
        Case(members_with_one_class, "members.csv", "death", ("one outcome class",)),
        id="members-one-class",
    ),
    pytest.param(
        Case(duplicated_column_name, "population.csv", "columns", ("same name",)),
        id="duplicated-column",
    ),
    pytest.param(
        Case(encoding_std_zero, "supervised.safetensors", "encoding", ("std",)),
        id="encoding-std-zero",
    ),
    pytest.param(
        Case(encoding_mean_nan, "supervised.safetensors", "metadata", ("NaN",)),
        id="encoding-mean-nan",
    ),
    pytest.param(
        Case(sidecar_in_latin1, "model.onnx.meta.json", "metadata", ("UTF-8",)),
        id="sidecar-latin1",
    ),
    pytest.param(
        Case(sidecar_in_utf16, "model.onnx.meta.json", "metadata", ("UTF-8",)),
        id="sidecar-utf16",
    ),
    pytest.param(
        Case(unknown_metadata_key, "supervised.safetensors", "claimz"), id="metadata-unknown-key"
    ),
    pytest.param(
        Case(unknown_output_kind, "supervised.safetensors", "output"), id="metadata-output-banana"
    ),
    pytest.param(
        Case(typo_in_recipe_parameters, "supervised.safetensors", "recipe.supervised.epochz"),
        id="recipe-parameter-typo",
    ),
    pytest.param(
        Case(gate_threshold_nan, "supervised.toml", "gates.utility.accuracy"), id="gate-nan"
    ),
    pytest.param(
        Case(gate_threshold_infinite, "supervised.toml", "gates.utility.accuracy"), id="gate-inf"
    ),
    pytest.param(Case(dp_epsilon_nan, "supervised.toml", "utility.dp_epsilon"), id="dp-eps-nan"),
    pytest.param(
        Case(bootstrap_too_many, "supervised.toml", "attacks.bootstrap", ("20000",)),
        id="bootstrap-unbounded",
    ),
    pytest.param(Case(no_attack, "supervised.toml", "attacks.run", ("no attack",)), id="no-attack"),
    pytest.param(
        Case(list_inside_attacks_run, "supervised.toml", "attacks.run"), id="list-in-attacks"
    ),
    pytest.param(
        Case(table_inside_attacks_run, "supervised.toml", "attacks.run"), id="table-in-attacks"
    ),
    pytest.param(
        Case(millions_of_unknown_keys, "supervised.toml", "spec", ("keys",)),
        id="millions-of-keys",
    ),
    pytest.param(
        Case(symlink_loop_as_data_path, "supervised.toml", "data.test", ("loop",)),
        id="symlink-loop",
    ),
    pytest.param(
        Case(dangling_link_as_data_path, "supervised.toml", "data.test", ("does not exist",)),
        id="dangling-link",
    ),
    pytest.param(
        Case(overlong_file_name, "supervised.toml", "data.test", ("too long",)),
        id="overlong-name",
    ),
    pytest.param(Case(nul_byte_in_path, "supervised.toml", "data.test"), id="nul-byte-in-path"),
    pytest.param(
        Case(cuda_without_a_gpu, "supervised.toml", "attacks.device", ("CUDA",)),
        id="cuda-without-gpu",
        marks=pytest.mark.skipif(cuda_available(), reason="this machine has CUDA"),
    ),
    pytest.param(
        Case(
            gate_on_attribute_that_is_no_input,
            "supervised.toml",
            "gates.privacy.attribute_inference.age_band.advantage",
        ),
        id="gate-on-non-input-attribute",
    ),
    pytest.param(
        Case(unknown_scheme, "supervised.toml", "scheme.name", ("did you mean 'mimic'",)),
        id="unknown-scheme",
    ),
    pytest.param(
        Case(artifact_is_a_folder, "supervised.toml", "artifact.path", ("folder",)),
        id="artifact-is-a-folder",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_file_field_and_fix(
    case: Case, make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    spec = tree.spec("supervised")
    case.edit(tree, spec)
    out, junit = tmp_path / "out", tmp_path / "gates.xml"

    # `validate` refuses every case that `run` refuses, naming the same file and field.
    checked = cli("validate", spec)
    checked_output = flat(checked.output)
    assert checked.exit_code == 2, checked_output
    assert case.file in checked_output and case.field in checked_output, checked_output

    result = cli("run", spec, "--out", out, "--junit", junit)

    output = flat(result.output)
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert case.file in output, f"file {case.file!r} not named: {output}"
    assert case.field in output, f"field {case.field!r} not named: {output}"
    assert "Fix:" in output
    # typer's CliRunner mixes both streams in .output; the problems go to stderr.
    assert "Fix:" in result.stderr
    assert "Fix:" not in result.stdout
    for text in case.also:
        assert text in output
    quoted = sorted(v for v in fed_values(tree) if v in result.output)
    assert not quoted, f"the messages quote values of the data they were fed: {quoted[:5]}"
    # No partial output: neither the folder, nor a staging folder beside it, nor the JUnit.
    assert not out.exists()
    assert not junit.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    # The pickle was refused, not unpickled.
    assert not (tree.root / "unpickled").exists()


def test_header_only_csv_is_reported_as_empty(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    header_only_csv(tree, tree.spec("supervised"))
    out = tmp_path / "out"
    result = cli("run", tree.spec("supervised"), "--out", out)
    assert result.exit_code == 2
    assert not out.exists()
    output = flat(result.output)
    assert "members.csv" in output
    assert "not numeric" not in output, output
    assert any(word in output.lower() for word in ("no rows", "empty", "0 rows")), output


def test_three_spec_problems_are_reported_together(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    spec = tree.spec("supervised")
    missing_file(tree, spec)
    unknown_attack(tree, spec)
    gate_on_unknown_metric(tree, spec)
    out = tmp_path / "out"

    result = cli("run", spec, "--out", out)

    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "Traceback" not in result.output
    for field in ("[data.test]", "[attacks.run]", "[gates.privacy.loss.nosuch]"):
        assert field in output, field
    assert output.count("Fix:") == 3
    assert "test_2024.csv" in output and "nosuch" in output
    assert not out.exists()


def test_three_data_problems_in_three_files_are_reported_together(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    tree = make_tree()
    spec = tree.spec("supervised")
    missing_column(tree, spec)
    non_binary_label(tree, spec)
    nan_in_features(tree, spec)
    out = tmp_path / "out"

    result = cli("run", spec, "--out", out)

    output = flat(result.output)
    assert result.exit_code == 2, output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if "Fix:" in line]
    assert len(lines) == 3, result.output
    expected = [
        ("members.csv", "[meanbp]"),
        ("test.csv", "[death]"),
        ("population.csv", "[meanbp]"),
    ]
    for (file_name, field), line in zip(expected, lines, strict=True):
        assert f"{os.sep}{file_name}: {field}" in line, line
    assert not out.exists()


def test_pickle_is_loaded_only_with_opt_in(
    make_tree: Callable[..., Any], tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The refusal above is about consent: with --allow-code the same file is unpickled."""
    tree = make_tree()
    spec = tree.spec("supervised")
    pickle_without_opt_in(tree, spec)
    result = cli("run", spec, "--out", tmp_path / "out", "--allow-code")
    assert (tree.root / "unpickled").is_dir()
    assert result.exit_code != 0
