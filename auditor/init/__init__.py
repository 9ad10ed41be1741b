"""`auditor init`: the metadata and spec of an audit, inferred from the artifact and the
data files, with what was inferred and what a person must still confirm. A model file:
`init.model`; a released table (CSV or Parquet) from any generator: `init.table`."""

from __future__ import annotations

from auditor.init.model import (
    DEFAULT_RUN,
    Inferred,
    infer,
    sensitive_columns,
    spec_mapping,
    write_metadata,
    write_setup,
)
from auditor.init.table import TABLE_RUN, infer_table, is_table, write_table_setup

__all__ = [
    "DEFAULT_RUN",
    "TABLE_RUN",
    "Inferred",
    "infer",
    "infer_table",
    "is_table",
    "sensitive_columns",
    "spec_mapping",
    "write_metadata",
    "write_setup",
    "write_table_setup",
]
