"""Output paths: checked before any work (so that a long audit is never lost to an
unwritable folder), and written whole or not at all."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from auditor.errors import Problem

OWNED = ("result.json", "timings.json", "report.html")  # the files an audit folder holds


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def output_problems(path: Path, *, field: str, folder: bool) -> list[Problem]:
    """What stands between the auditor and writing `path` (a folder, or a file), leaving
    nothing behind: it exists as the wrong kind, or its nearest existing folder cannot be
    written to."""
    where = "command line"
    try:
        path = Path(os.path.abspath(path))
        if folder and path.exists() and not path.is_dir():
            return [Problem(where, field, f"{path} is a file, not a folder", "name a folder")]
        if not folder and path.is_dir():
            return [Problem(where, field, f"{path} is a folder", "name a file to write")]
        base = _nearest_existing(path if folder else path.parent)
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long for the system
        reason = getattr(exc, "strerror", None) or "is not a usable path"
        return [Problem(where, field, f"{reason}", "choose another output path")]
    if not base.is_dir():
        return [Problem(where, field, f"{base} is a file", "choose a path inside a folder")]
    try:  # the real test (permissions, read-only mounts, root): a file that deletes itself
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError:
        return [Problem(where, field, f"{base} is not writable", "choose a writable folder")]
    return []


def publish(files: dict[str, str], folder: Path) -> None:
    """Write all `files` (name -> text) into `folder` at once: each staged as a hidden
    temporary file in the folder itself (same filesystem, so a mount point works), then
    renamed into place; on failure no partial output is left. An owned file that this run
    does not write (report.html after --no-report) is removed, never left stale."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        for name, text in files.items():
            staged[name] = folder / f".{name}.{secrets.token_hex(6)}.tmp"
            staged[name].write_text(text, encoding="utf-8")
        for name, tmp in staged.items():
            tmp.replace(folder / name)
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise
    for name in OWNED:
        if name not in files:
            (folder / name).unlink(missing_ok=True)
