"""The core every stage stands on: configuration, typed errors with their exit codes,
PII-redacting logging and the value types the stages share.

It imports no stage (``ingest``, ``parsing``, ``ledger``, ``application``, ``flows``) and no
Prefect; import-linter checks that in ``bin/test``.
"""
