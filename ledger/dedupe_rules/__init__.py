"""The dedupe rules behind ``ledger.dedupe`` (import them from there): pure functions over plain data.

Modules, from the bottom up: ``config`` (thresholds), ``copy_facts`` (the input), ``outcome``
(links, reviews, rule names), ``normalize`` and ``names`` (comparable forms), ``identity`` (keys,
blocks, OCR-slip distance), ``forming_request`` (a request being formed), ``hold_apart`` (rules
that keep a match apart), ``matching`` (copy against request), ``cancellation``, ``grouping``
(``assign``).
"""
