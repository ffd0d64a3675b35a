"""detainer-intake: the operator command line, the shell on top of every layer.

``core`` (configuration, errors, logging, shared types) <- ``ingest`` <- ``parsing`` <- ``ledger``
<- ``application`` (reports, reconciliation, review, dispositions) <- ``flows`` (Prefect)
<- ``detainer_intake`` (this package: ``cli`` wires the command bodies in ``commands``).
"""

__version__ = "0.1.0"
