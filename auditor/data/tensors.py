"""Load and check audit data whose records are tensors (images, series): one file per split,
`.npz` (numpy.savez, read without pickle) or `.safetensors`, holding `x` (n, *shape), `y`
(class indices (n,), or 0/1 label vectors (n, L)) and `ids` (n,); the sensitive columns come
from a table of per-record columns (`[data] records`, a CSV keyed by the id column).

Messages name the file, the array and the fix, never a value.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auditor.core.hashing import sha256_file
from auditor.core.tensors import TensorEncoding
from auditor.data.splits import AuditData, DataSpec, Split, csv_failure
from auditor.errors import AuditInputError, Problem

TENSOR_SUFFIXES = (".npz", ".safetensors")
MIN_ROWS = 10
FIX_LAYOUT = "store x (n, *shape), y and ids, e.g. numpy.savez(path, x=x, y=y, ids=ids)"


def is_tensor_file(path: Path) -> bool:
    return path.suffix.lower() in TENSOR_SUFFIXES


MAX_TENSOR_MIB = 512  # default cap on one split file's arrays, as declared in its headers


def _npz_bytes(path: Path) -> int:
    """The bytes an .npz archive's arrays take once loaded, from their .npy headers alone
    (a small compressed file can declare terabytes)."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as handle:
                version = np.lib.format.read_magic(handle)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read(handle)
            total += math.prod(shape) * dtype.itemsize
    return total


def _safetensors_bytes(path: Path) -> int:
    from safetensors import safe_open

    total = 0
    with safe_open(str(path), framework="numpy") as handle:
        for key in handle.keys():  # noqa: SIM118
            part = handle.get_slice(key)
            total += math.prod(part.get_shape()) * _SAFETENSORS_WIDTH.get(part.get_dtype(), 8)
    return total


# Bytes per element of safetensors' dtypes (an unknown one counts as 8: the larger estimate).
_SAFETENSORS_WIDTH = {
    **dict.fromkeys(("F64", "I64", "U64"), 8),
    **dict.fromkeys(("F32", "I32", "U32"), 4),
    **dict.fromkeys(("F16", "BF16", "I16", "U16"), 2),
    **dict.fromkeys(("I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2"), 1),
}


def _too_large(path: Path, limit_mib: int) -> Problem | None:
    """A problem when the arrays a tensor file declares exceed `limit_mib` once loaded."""
    safetensors = path.suffix.lower() == ".safetensors"
    declared = _safetensors_bytes(path) if safetensors else _npz_bytes(path)
    if declared <= limit_mib * 2**20:
        return None
    message = f"declares arrays of {declared / 2**20:,.0f} MiB, over the {limit_mib} MiB limit"
    fix = "check the file; for data this large raise [data] max_tensor_mib"
    return Problem(str(path), "file", message, fix)


def _read(
    path: Path, problems: list[Problem], limit_mib: int = MAX_TENSOR_MIB
) -> dict[str, np.ndarray] | None:
    from safetensors import SafetensorError

    where = str(path)
    try:
        large = _too_large(path, limit_mib)
        if large is not None:
            problems.append(large)
            return None
        if path.suffix.lower() == ".safetensors":
            from safetensors.numpy import load_file

            return dict(load_file(str(path)))
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a single .npy array
            raise ValueError("one array, not an archive of x, y and ids")
        with loaded as archive:
            return {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, SafetensorError) as exc:
        kind = "a safetensors file" if path.suffix.lower() == ".safetensors" else "an .npz archive"
        reason = "holds objects that need pickle" if "pickle" in str(exc) else "cannot be read"
        problems.append(Problem(where, "file", f"is not {kind} ({reason})", FIX_LAYOUT))
        return None


def _labels_problems(
    y: np.ndarray, n: int, where: str, spec: DataSpec, n_classes: int
) -> list[Problem]:
    if spec.multilabel:
        if y.shape != (n, len(spec.labels)):
            message = (
                f"has shape {y.shape}, expected ({n}, {len(spec.labels)}): one 0/1 column per label"
            )
            return [Problem(where, "y", message, "store the label vectors in the model's order")]
        if not np.isin(y, (0, 1)).all():
            return [Problem(where, "y", "holds values other than 0/1", "encode each label 0/1")]
        return []
    if y.shape != (n,):
        message = f"has shape {y.shape}, expected ({n},): one class index per record"
        return [Problem(where, "y", message, "store one class index per record")]
    if not np.issubdtype(y.dtype, np.integer) or (n and (y.min() < 0 or y.max() >= n_classes)):
        message = f"is not a class index 0..{n_classes - 1} (the model's classes)"
        return [Problem(where, "y", message, "store integer class indices")]
    return []


def _split_problems(
    arrays: dict[str, np.ndarray], path: Path, spec: DataSpec, enc: TensorEncoding, n_classes: int
) -> list[Problem]:
    where = str(path)
    missing = [k for k in ("x", "y", "ids") if k not in arrays]
    if missing:
        return [Problem(where, k, "array is missing", FIX_LAYOUT) for k in missing]
    x, y, ids = arrays["x"], arrays["y"], arrays["ids"]
    if x.ndim < 2 or tuple(x.shape[1:]) != enc.shape:
        message = f"records have shape {tuple(x.shape[1:])}, but the model takes {enc.shape}"
        return [Problem(where, "x", message, "store x as (n, *shape), channels first")]
    n = len(x)
    problems = []
    real = np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    if not real or not np.isfinite(x).all():  # complex: its imaginary part would be dropped
        message = "is not all finite real numbers"
        problems.append(
            Problem(where, "x", message, "replace NaN/inf values or drop those records")
        )
    if n < MIN_ROWS:
        message = f"has {n} records; a split needs at least {MIN_ROWS}"
        problems.append(Problem(where, "x", message, "give the split more records"))
    problems += _labels_problems(y, n, where, spec, n_classes)
    if ids.shape != (n,):
        problems.append(
            Problem(where, "ids", f"has shape {ids.shape}, expected ({n},)", FIX_LAYOUT)
        )
    elif len(np.unique(ids)) != n:
        problems.append(Problem(where, "ids", "repeats a record id", "one id per record"))
    return problems


def _groups(
    spec: DataSpec, ids: dict[str, np.ndarray], problems: list[Problem]
) -> dict[str, dict[str, np.ndarray]]:
    """Each split's sensitive columns (and site column), looked up by id in the records
    table."""
    columns = [*spec.sensitive, *([spec.site] if spec.site else [])]
    if not columns:
        return {name: {} for name in ids}
    if spec.records is None:
        fix = 'name a CSV with the id and sensitive columns: [data] records = "records.csv"'
        problems.append(
            Problem("spec", "data.records", "is needed for sensitive and site columns", fix)
        )
        return {}
    try:
        table = pd.read_csv(spec.records, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        fix = "write it as comma-separated UTF-8 with a header row"
        problems.append(Problem(str(spec.records), "csv", csv_failure(exc), fix))
        return {}
    needed = [spec.id, *columns]
    absent = [c for c in needed if c not in table.columns]
    if absent:
        fix = "add the column, or fix the name in the spec"
        problems += [Problem(str(spec.records), c, "column is missing", fix) for c in absent]
        return {}
    table = table.drop_duplicates(spec.id).set_index(spec.id)
    out = {}
    for name, split_ids in ids.items():
        keys = pd.Index(split_ids.astype(str))
        unknown = int((~keys.isin(table.index)).sum())
        if unknown:
            fix = "give every record of every split a row in the records table"
            message = f"lacks {unknown} ids of the {name} split"
            problems.append(Problem(str(spec.records), spec.id, message, fix))
            continue
        rows = table.loc[keys]
        out[name] = {s: rows[s].astype(str).to_numpy() for s in columns}
    return out


def load_tensor_data(spec: DataSpec, encoding: TensorEncoding, n_classes: int) -> AuditData:
    """Read, check and normalise every split's tensors; AuditInputError listing all problems."""
    problems: list[Problem] = []
    # per split: "x", "y", "ids" arrays, and from a manifest "sha256" and "groups" too
    arrays: dict[str, dict[str, Any]] = {}
    for name, path in spec.paths().items():
        if path.suffix.lower() == ".csv":  # an image manifest
            from auditor.data.images import read_manifest

            read = read_manifest(path, spec, encoding.shape, problems)
        elif not is_tensor_file(path):
            fix = (
                f"give every split as {' or '.join(TENSOR_SUFFIXES)}, or as an image manifest "
                "(.csv with a path column)"
            )
            problems.append(Problem(str(path), "file", "is not a tensor file", fix))
            continue
        else:
            read = _read(path, problems, spec.max_tensor_mib)
        if read is not None:
            found = _split_problems(read, path, spec, encoding, n_classes)
            problems += found
            if not found:
                arrays[name] = read
    if problems:
        raise AuditInputError(problems)
    ids = {name: a["ids"] for name, a in arrays.items()}
    both = set(ids["members"].astype(str)) & set(ids["non_members"].astype(str))
    if both:
        message = f"{len(both)} records are both members and non-members"
        problems.append(Problem(str(spec.non_members), "ids", message, "each record in one split"))
    from_tables = {n: a["groups"] for n, a in arrays.items() if "groups" in a}  # manifests
    pending = {n: i for n, i in ids.items() if n not in from_tables}
    groups = _groups(spec, pending, problems) if pending else {}
    groups.update(from_tables)
    if problems:
        raise AuditInputError(problems)
    splits = {
        name: Split(
            name=name,
            path=spec.paths()[name],
            sha256=a.get("sha256") or sha256_file(spec.paths()[name]),
            x=encoding.encode(a["x"]),
            y=np.asarray(a["y"]).astype(np.int64),
            groups={s: v for s, v in groups[name].items() if s in spec.sensitive},
            sites=groups[name].get(spec.site) if spec.site else None,
        )
        for name, a in arrays.items()
    }
    return AuditData(
        splits["members"],
        splits["non_members"],
        splits["test"],
        splits["population"],
        encoding=None,
        n_outputs=n_classes,
        label_names=spec.label_columns,
    )
