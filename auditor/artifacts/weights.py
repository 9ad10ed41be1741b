"""Per-site data vectors released beside merged weights: one safetensors file whose tensors
are named `<site>::<parameter>`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import fail

if TYPE_CHECKING:
    import torch

SEPARATOR = "::"  # tensor names in a site-vectors file: "<site>::<parameter>"


def save_site_vectors(vectors: dict[str, dict[str, torch.Tensor]], path: Path) -> None:
    """Write per-site data vectors as one safetensors file."""
    from safetensors.torch import save_file

    tensors = {
        f"{site}{SEPARATOR}{name}": t.contiguous()
        for site, vec in vectors.items()
        for name, t in vec.items()
    }
    meta = {"auditor": json.dumps({"kind": "site_vectors", "sites": sorted(vectors)})}
    save_file(tensors, str(path), metadata=meta)


def load_site_vectors(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    """Inverse of `save_site_vectors`; AuditInputError when the file is not one."""
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise fail(
            str(path),
            "artifact.site_vectors",
            f"cannot be read ({type(exc).__name__})",
            "release the vectors as written by the merge recipe",
        ) from exc
    out: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        site, sep, name = key.partition(SEPARATOR)
        if not sep:
            raise fail(
                str(path),
                "artifact.site_vectors",
                "holds a tensor not named '<site>::<parameter>'",
                "name each tensor by its site and parameter",
            )
        out.setdefault(site, {})[name] = tensor
    return out


def check_site_vectors(path: Path) -> None:
    """AuditInputError unless `path` is a safetensors file of `<site>::<parameter>` tensors
    (read without torch)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            names = list(handle.keys())
    except Exception as exc:
        raise fail(
            str(path),
            "artifact.site_vectors",
            f"cannot be read ({type(exc).__name__})",
            "release the vectors as written by the merge recipe",
        ) from exc
    if not names or not all(SEPARATOR in name for name in names):
        raise fail(
            str(path),
            "artifact.site_vectors",
            "holds no tensor, or one not named '<site>::<parameter>'",
            "name each tensor by its site and parameter",
        )
