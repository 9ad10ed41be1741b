"""Release auditor: privacy, utility and fairness audits of artifacts derived from patient data."""

__version__ = "0.1.0"
