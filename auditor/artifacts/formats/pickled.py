"""Pickle files: unpickling runs arbitrary code, so the format is refused without
`allow_code` (its `runs_code`); with it, the user has vouched for the file."""

from __future__ import annotations

import pickle
from pathlib import Path

from auditor.artifacts.formats import LoadOptions, Queryable
from auditor.artifacts.metadata import ArtifactMetadata
from auditor.artifacts.query import is_torch_module, logits_fn, table_logits


def load(path: Path, meta: ArtifactMetadata, options: LoadOptions) -> Queryable:
    with path.open("rb") as handle:
        obj = pickle.load(handle)  # allow_code opt-in checked by model_format
    module = obj.eval() if is_torch_module(obj) else None
    if meta.raw_columns:
        return Queryable(table=table_logits(obj, meta.raw_columns), module=module)
    return Queryable(logits=logits_fn(obj), module=module)
