"""Fine-tune the float French model into the fax-print recogniser, on one core.

Steps: draw the lines (text.py, render.py) into multi-page TIFFs with line boxes (one line per
page, Tesseract's WordStr box format), let Tesseract turn each into an .lstmf, fine-tune the
float model's LSTM with ``lstmtraining --continue_from`` and convert the result to an integer
model (small and fast to load)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.faxprint.render import render_line
from training.faxprint.text import line

PAGES_PER_TIFF = 100


@dataclass(frozen=True)
class Settings:
    base: Path  # the float model (tessdata_best fra.traineddata)
    out: Path
    work: Path
    seed: int = 16
    lines: int = 8000
    eval_share: float = 0.1
    iterations: int = 30000


def _env() -> dict[str, str]:
    # One core: the machine is shared, and Tesseract's OpenMP only slows small jobs down.
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _run(command: list[str], work: Path, log: str) -> None:
    # In the work folder, with names relative to it: lstmtraining's result depends on the
    # training files' names as listed, so the same command trains the same model in any folder.
    with (work / log).open("ab") as out:
        subprocess.run(["nice", "-n", "10", *command], check=True, stdout=out, stderr=subprocess.STDOUT, env=_env(),
                       cwd=work)


def draw(settings: Settings) -> list[Path]:
    """The .lstmf files (relative to the work folder) of ``settings.lines`` lines (deterministic for the seed)."""
    rng = random.Random(f"faxprint:{settings.seed}")  # noqa: S311 - reproducible drawing, not secrecy
    nrng = np.random.default_rng(settings.seed)
    work = settings.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    files = []
    for chunk in range(0, settings.lines, PAGES_PER_TIFF):
        stem = Path(f"lines{chunk // PAGES_PER_TIFF:03d}")
        images, boxes = [], []
        for page in range(min(PAGES_PER_TIFF, settings.lines - chunk)):
            text = line(rng)
            image, scale = render_line(text, rng, nrng)
            image.info["dpi"] = (200 * scale, 200 * scale)
            images.append(image)
            w, h = image.size
            # WordStr: the whole line's box and text, then a tab at its right end (bottom-left origin).
            boxes.append(f"WordStr 0 0 {w} {h} {page} #{text}\n\t {w} 0 {w + 1} 1 {page}\n")
        images[0].save(work / stem.with_suffix(".tif"), save_all=True, append_images=images[1:],
                       compression="tiff_lzw", dpi=(400, 400))
        (work / stem.with_suffix(".box")).write_text("".join(boxes), encoding="utf-8")
        _run(["tesseract", str(stem.with_suffix(".tif")), str(stem), "--psm", "7", "lstm.train"], work, "draw.log")
        files.append(stem.with_suffix(".lstmf"))
    return files


def train(settings: Settings) -> str:
    """Train, convert, copy to ``settings.out``; its sha256."""
    started = time.monotonic()
    lstmf = draw(settings)
    drawn = time.monotonic()
    n_eval = max(1, round(len(lstmf) * settings.eval_share))
    work = settings.work.resolve()
    (work / "train.txt").write_text("".join(f"{p}\n" for p in lstmf[n_eval:]), encoding="utf-8")
    (work / "eval.txt").write_text("".join(f"{p}\n" for p in lstmf[:n_eval]), encoding="utf-8")
    base = str(settings.base.resolve())
    _run(["combine_tessdata", "-e", base, "base.lstm"], work, "train.log")
    _run(["lstmtraining", "--continue_from", "base.lstm", "--traineddata", base, "--model_output", "faxprint",
          "--train_listfile", "train.txt", "--eval_listfile", "eval.txt", "--max_iterations", str(settings.iterations),
          "--target_error_rate", "0.005", "--debug_interval", "0"], work, "train.log")
    _run(["lstmtraining", "--stop_training", "--convert_to_int", "--continue_from", "faxprint_checkpoint",
          "--traineddata", base, "--model_output", "faxprint.traineddata"], work, "train.log")
    settings.out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(strip_word_lists(work / "faxprint.traineddata", work / "stripped"), settings.out)
    digest = hashlib.sha256(settings.out.read_bytes()).hexdigest()
    print(f"drew {settings.lines} lines in {drawn - started:.0f} s, trained in {time.monotonic() - drawn:.0f} s; "
          f"{settings.out} ({settings.out.stat().st_size} bytes) sha256 {digest}")
    return digest


def strip_word_lists(model: Path, folder: Path) -> Path:
    """``model`` without the base model's French word lists (dawgs): identifiers are not words,
    and the file is a third of the size."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    prefix = folder / "faxprint."
    subprocess.run(["combine_tessdata", "-u", str(model), str(prefix)], check=True, capture_output=True)
    for dawg in folder.glob("*dawg"):
        dawg.unlink()
    base = (folder / "faxprint.version").read_text(encoding="utf-8").strip()
    (folder / "faxprint.version").write_text(f"faxprint (fax-print fine-tune of {base})", encoding="utf-8")
    subprocess.run(["combine_tessdata", str(prefix)], check=True, capture_output=True)
    return folder / "faxprint.traineddata"
