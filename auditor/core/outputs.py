"""Output paths: checked before any work (so that a long audit is never lost to an
unwritable folder), written whole or not at all, and never over a file the auditor did
not write.

What the auditor wrote is recognised without a registry: a folder it publishes into holds
the marker file `MARKER`; an HTML page or JUnit file it writes names `GENERATOR` near its
start. Anything else that stands where an output would go is refused unless the user
passes `--force`."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from auditor.errors import Problem

OWNED = ("result.json", "timings.json", "report.html")  # the files an audit folder holds
MARKER = ".release-auditor"  # in every folder the auditor writes outputs into
GENERATOR = "release-auditor"  # named in every HTML page and JUnit file it writes
_HEAD = 1 << 16  # where the generator's name is looked for in a file
# How a page (report and comparison templates) and a JUnit file (result.gates) name it.
_SIGNATURES = (
    f'<meta name="generator" content="{GENERATOR}">'.encode(),
    f'<property name="generator" value="{GENERATOR}" />'.encode(),
)


def ours(path: Path, writes: tuple[str, ...] | None = None) -> bool:
    """Whether writing at `path` replaces nothing the auditor did not write: it is absent,
    an HTML or JUnit file naming `GENERATOR`, a folder holding `MARKER`, or a folder holding
    none of the names in `writes` (None: an empty folder)."""
    if not path.exists():
        return True
    if path.is_dir():
        if (path / MARKER).is_file():
            return True
        if writes is None:
            return not any(path.iterdir())
        return not any((path / name).exists() for name in writes)
    if not path.is_file():  # a FIFO or device: never opened (a FIFO would block)
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD)
        return any(signature in head for signature in _SIGNATURES)
    except OSError:
        return False


def mark(folder: Path) -> None:
    """Create `folder` (and parents) if needed and mark it as the auditor's."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch(exist_ok=True)


def foreign_problems(
    path: Path, *, field: str, folder: bool, writes: tuple[str, ...] | None = None
) -> list[Problem]:
    """A problem when writing at `path` would replace something the auditor did not write."""
    if ours(path, writes):
        return []
    if not folder:
        what = "is a file the auditor did not write"
    elif writes is None:
        what = "is a folder with files the auditor did not write"
    else:
        found = [n for n in writes if (path / n).exists()]
        what = f"holds {', '.join(found)}, which the auditor did not write there"
    return [
        Problem(
            "command line",
            field,
            f"{path} {what}; it would be overwritten",
            "choose a new or empty " + ("folder" if folder else "file name") + ", or pass --force",
        )
    ]


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def output_problems(
    path: Path,
    *,
    field: str,
    folder: bool,
    force: bool = False,
    writes: tuple[str, ...] | None = OWNED,
) -> list[Problem]:
    """What stands between the auditor and writing `path` (a folder, or a file), leaving
    nothing behind: it exists as the wrong kind, its nearest existing folder cannot be
    written to, or (unless `force`) writing would replace what the auditor did not write
    (a folder's `writes`: the names it will hold; None: anything in it)."""
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
    return [] if force else foreign_problems(path, field=field, folder=folder, writes=writes)


def publish(files: dict[str, str], folder: Path) -> None:
    """Write all `files` (name -> text) into `folder` at once: each staged as a hidden
    temporary file in the folder itself (same filesystem, so a mount point works), then
    renamed into place; on failure no partial output is left. An owned file that this run
    does not write (report.html after --no-report) is removed, never left stale."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch(exist_ok=True)
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
        if created:
            (folder / MARKER).unlink(missing_ok=True)
            if not any(folder.iterdir()):
                folder.rmdir()
        raise
    for name in OWNED:
        if name not in files:
            (folder / name).unlink(missing_ok=True)
