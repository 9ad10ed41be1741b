"""HTML reports for audit results: one self-contained, offline, deterministic file per result."""

from auditor.report.render import render_report, write_report

__all__ = ["render_report", "write_report"]
