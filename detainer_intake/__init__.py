"""detainer-intake: application layer shared by every stage.

Owns the configuration, the typed errors with their exit codes, the PII-redacting
log setup and the operator command line. The stages themselves live in the
top-level packages ``ingest`` -> ``parsing`` -> ``ledger`` -> ``flows``.
"""

__version__ = "0.1.0"
