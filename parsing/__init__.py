"""parsing: pages -> OCR text -> classified documents -> typed detainer records.

Owns reading every input format page by page, fax-image normalisation, Tesseract
OCR, page classification and grouping, and the declarative I-247 form templates
that turn OCR words and checkbox ink into ``DetainerRequest`` records. Pure
functions over bytes; no database, no mailbox, no Prefect.
"""
