"""The audit of one artifact: its context, the input check, the sections, one module per
artifact kind, and the run that assembles the result (`run.run_audit`). The Python API's
`auditor.audit(...)` (`auditor.api`) and the CLI call into it; it imports neither."""
