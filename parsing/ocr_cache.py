"""A disk cache in front of an OCR engine, for tests and reruns.

Switched on when the environment variable ``DETAINER_INTAKE_OCR_CACHE`` names a folder; unset
(the default for real runs), every reading runs the engine. A result is stored under the
SHA-256 of the engine's identity (Tesseract's version and a digest of its models), the
operation, every parameter of the reading (language, page segmentation, dpi, alphabet, and the
digest of a project model's file when the reading uses one) and the
image exactly as the engine receives it (mode, size, pixels): any change is a miss, never a
stale hit. The timeout is no part of the key: it only decides whether there is a result, and a
reading that ran out of time is not stored.

Entries are written atomically (``core.files.write_private``): several processes (pytest-xdist
workers, the parse pool) share one folder safely; two writing the same entry write the same bytes.
The cache holds OCR text, personal data: its files are owner-only like everything the pipeline writes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from functools import cache
from pathlib import Path

from PIL import Image

from core.files import write_private
from parsing.ocr import OcrEngine, OcrParams, Word

CACHE_ENV = "DETAINER_INTAKE_OCR_CACHE"


class CachedOcrEngine:
    """``engine`` with its results kept in ``folder`` (one small JSON file per reading)."""

    def __init__(self, engine: OcrEngine, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self._identity: str | None = None

    def identity(self) -> str:
        if self._identity is None:
            self._identity = self.engine.identity()
        return self._identity

    def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
        path = self._entry("words", image, _key_params(params))
        stored = _load(path)
        if stored is not None:
            return [Word(*word) for word in stored["words"]]
        words = self.engine.words(image, params, timeout)
        _store(path, {"words": [dataclasses.astuple(word) for word in words]})
        return words

    def orientation(self, image: Image.Image, timeout: float) -> int | None:
        path = self._entry("orientation", image, {})
        stored = _load(path)
        if stored is not None:
            rotation: int | None = stored["rotation"]
            return rotation
        rotation = self.engine.orientation(image, timeout)
        _store(path, {"rotation": rotation})
        return rotation

    def _entry(self, operation: str, image: Image.Image, params: dict[str, object]) -> Path:
        digest = hashlib.sha256()
        header = {"engine": self.identity(), "operation": operation, "params": params,
                  "image": {"mode": image.mode, "size": list(image.size)}}
        digest.update(json.dumps(header, sort_keys=True).encode("utf-8"))
        digest.update(b"\0")
        digest.update(image.tobytes())
        key = digest.hexdigest()
        return self.folder / key[:2] / f"{key}.json"


def _key_params(params: OcrParams) -> dict[str, object]:
    """The reading's parameters as keyed: a project model by the digest of its file (not by
    where the checkout lies); readings with the system's models keep the keys they had."""
    key: dict[str, object] = dataclasses.asdict(params)
    del key["tessdata_dir"]
    model = params.model_file()
    if model is not None:
        key["model"] = _model_digest(model)
    return key


@cache
def _model_digest(path: Path) -> str:
    # Once per process and model: the model file does not change under a running pipeline.
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load(path: Path) -> dict | None:
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError):  # absent, or unreadable: read again and overwrite
        return None
    return stored if isinstance(stored, dict) else None


def _store(path: Path, result: dict) -> None:
    # Atomic, not durable: a cache entry lost in a power cut is only read again.
    write_private(path, json.dumps(result, separators=(",", ":")), durable=False)


def cache_from_environment(engine: OcrEngine) -> OcrEngine:
    """``engine`` behind the disk cache when ``DETAINER_INTAKE_OCR_CACHE`` names a folder, else itself."""
    folder = os.environ.get(CACHE_ENV, "").strip()
    return CachedOcrEngine(engine, Path(folder)) if folder else engine
