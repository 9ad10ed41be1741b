"""HTML reports for audit results: one self-contained, offline, deterministic file per result."""

from reports.render import render_report, write_report

__all__ = ["render_report", "write_report"]
