"""ingest: the three channels -> received documents with provenance.

Owns the dedicated fax folder, the per-station fax folders and the BFS IMAP
mailbox (or a Maildir), each behind the Channel protocol (``ingest.channel``);
turns each arrival into a ``Receipt`` (who/when/how it came) plus the content
bytes, stores those bytes once in the content-addressed archive, and runs
post-commit source actions (move a file, flag or move a message). Knows nothing of OCR.
"""
