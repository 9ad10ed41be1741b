"""Hashes and atomic writes: what makes results reproducible and outputs whole."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def canonical(document: dict[str, Any]) -> str:
    """Canonical JSON text (sorted keys, no NaN): the same document, the same bytes."""
    return json.dumps(document, sort_keys=True, indent=2, allow_nan=False) + "\n"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


MAX_TEXT_BYTES = 64 * 2**20  # metadata, sidecars, specs and results are far smaller


def read_utf8(path: Path, *, field: str) -> str:
    """A small text file's content; AuditInputError naming the file and `field` when it is
    not a regular file, too large, or not UTF-8 (a UTF-8 byte-order mark is dropped)."""
    from auditor.errors import fail

    try:
        if not path.is_file():  # a folder, a FIFO (which would block), a missing file
            raise fail(str(path), field, "is not a regular file", "name the file itself")
        if path.stat().st_size > MAX_TEXT_BYTES:
            size = f"{path.stat().st_size / 2**20:.0f} MiB"
            raise fail(str(path), field, f"is {size}", f"at most {MAX_TEXT_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise fail(str(path), field, exc.strerror or "cannot be read", "check the file") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (byte offset {exc.start})"
        raise fail(str(path), field, message, "save it as UTF-8") from exc
