"""Offline training of the project's OCR models (not imported by the pipeline)."""
