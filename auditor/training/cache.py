"""Content-hash disk cache for reference-model outputs.

An entry is one safetensors file named by the SHA-256 of what determines it (recipe,
hyperparameters, data hash, seed, K, shard). Writes are atomic (temporary file, then
rename), so a killed run leaves whole entries or none, and a re-run resumes from them. Each
entry records a hash of its tensor bytes; an entry whose bytes do not match is reported,
deleted and recomputed, never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditor.core.outputs import output_problems
from auditor.errors import Problem

log = logging.getLogger("auditor.cache")
CACHE_VERSION = 2  # bump when what an entry means (or how it is computed) changes
# The cache directory tag (bford.ca/cachedir): backup tools skip the folder, and `clear`
# deletes entries only in a folder that carries it.
TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by release-auditor (reference models).\n"
)
_ENTRY = re.compile(r"[0-9a-f]{64}\.safetensors")


def default_dir() -> Path:
    """$AUDITOR_CACHE_DIR, else $XDG_CACHE_HOME/release-auditor, else ~/.cache/release-auditor."""
    if os.environ.get("AUDITOR_CACHE_DIR"):
        return Path(os.environ["AUDITOR_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "release-auditor"


def cache_problems(folder: Path | None = None) -> list[Problem]:
    """What would stop the cache from storing entries in `folder` (default `default_dir()`):
    found before the audit trains anything, not after."""
    folder = folder or default_dir()
    found = output_problems(folder, field="AUDITOR_CACHE_DIR", folder=True, force=True)
    fix = "point AUDITOR_CACHE_DIR at a writable folder, or set [attacks] cache = false"
    return [Problem(str(folder), p.field, p.message, fix) for p in found]


def content_key(parts: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `parts` (plus the cache version)."""
    text = json.dumps({"cache_version": CACHE_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def array_digest(*arrays: np.ndarray) -> str:
    """SHA-256 over the dtype, shape and bytes of arrays (the data part of a key)."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def _tensor_digest(arrays: dict[str, np.ndarray]) -> str:
    return array_digest(*(arrays[name] for name in sorted(arrays)))


@dataclass(frozen=True)
class DiskCache:
    """A folder of entries; `enabled=False` makes every lookup a miss and stores nothing."""

    folder: Path
    enabled: bool = True

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.safetensors"

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """The entry's arrays, or None when absent or corrupt (a corrupt entry is deleted)."""
        if not self.enabled or not self._path(key).is_file():
            return None
        from safetensors import safe_open

        path = self._path(key)
        try:
            with safe_open(str(path), framework="numpy") as handle:
                recorded = (handle.metadata() or {}).get("content_sha256")
                arrays = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        except Exception as exc:  # unreadable header or truncated data
            log.warning("cache entry %s is unreadable (%s): recomputing it", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        if recorded != _tensor_digest(arrays):
            log.warning("cache entry %s does not match its content hash: recomputing", path.name)
            path.unlink(missing_ok=True)
            return None
        return arrays

    def put(self, key: str, arrays: dict[str, np.ndarray], description: str) -> None:
        """Store arrays under `key` atomically."""
        if not self.enabled:
            return
        from safetensors.numpy import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        if not (self.folder / TAG).is_file():
            (self.folder / TAG).write_text(TAG_TEXT)
        meta = {"content_sha256": _tensor_digest(arrays), "description": description}
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".safetensors")
        os.close(fd)
        try:
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, tmp, metadata=meta)
            os.replace(tmp, self._path(key))
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _owned(self) -> list[Path]:
        """The entries this cache wrote: a 64-hex-digit name and a content hash in the
        header. Anything else in the folder is not the cache's."""
        from safetensors import safe_open

        owned = []
        for path in sorted(self.folder.glob("*.safetensors")):
            if not _ENTRY.fullmatch(path.name):
                continue
            try:
                with safe_open(str(path), framework="numpy") as handle:
                    if "content_sha256" in (handle.metadata() or {}):
                        owned.append(path)
            except Exception:  # an entry cut short by a crash is still the cache's
                owned.append(path)
        return owned

    def entries(self) -> list[tuple[str, int, str]]:
        """(key, size in bytes, description) of every entry."""
        from safetensors import safe_open

        out = []
        for path in self._owned():
            try:
                with safe_open(str(path), framework="numpy") as handle:
                    description = (handle.metadata() or {}).get("description", "")
            except Exception:
                description = "(unreadable)"
            out.append((path.stem, path.stat().st_size, description))
        return out

    def is_cache(self) -> bool:
        """Whether the folder is this cache: it carries the tag `put` writes, or (a cache
        from before the tag) holds nothing but the cache's entries."""
        if (self.folder / TAG).is_file():
            return True
        if not self.folder.is_dir():
            return False
        names = {p.name for p in self.folder.iterdir() if not p.name.startswith(".tmp-")}
        return bool(names) and names == {p.name for p in self._owned()}

    def clear(self) -> int:
        """Delete every entry the cache wrote (and its stray temporary files), nothing else;
        returns how many entries. Call it only on a folder for which `is_cache()` holds."""
        if not self.is_cache():
            raise ValueError(f"{self.folder} is not a release-auditor cache (no {TAG})")
        removed = 0
        for path in self._owned():
            path.unlink(missing_ok=True)
            removed += 1
        for path in self.folder.glob(".tmp-*.safetensors"):
            path.unlink(missing_ok=True)
        return removed
