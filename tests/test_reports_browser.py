"""report.html in a real headless browser (Debian's /usr/bin/chromium, installed by `bin/setup --test`):
the page renders, both charts decode, and the screenshot shows them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from application import build_report
from application.charts import CHANNEL_COLOURS
from ledger.db import open_ledger
from tests.report_support import copy_ledger, settings_for, truth_ledger_file

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is not installed: the report is checked in a headless browser. "
            "Run `bin/setup --test` (it installs Debian's chromium package)."
        )
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def report_html(truth, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    url = copy_ledger(truth_ledger_file(root / "src", truth), root / "db")
    ledger = open_ledger(url)
    try:
        return build_report(ledger, settings_for(url, root), 2025, root / "report").report_html
    finally:
        ledger.close()


def test_report_renders_with_its_charts_in_headless_chromium(report_html, tmp_path):
    dom = chromium(tmp_path, "--dump-dom", report_html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    html_tag = re.search(r"<html[^>]*>", dom.stdout)
    assert html_tag is not None, dom.stdout[:500]
    assert 'data-images="2"' in html_tag.group(0), html_tag.group(0)
    assert 'data-images-ready="yes"' in html_tag.group(0), "a chart image did not decode (naturalWidth == 0)"
    assert len(re.findall(r"<img [^>]*src=\"data:image/svg\+xml;base64,", dom.stdout)) == 2

    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", report_html.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    # The charts are on screen: each channel's colour fills a good number of pixels.
    pixels = np.asarray(image, dtype=np.int16)
    for channel, colour in CHANNEL_COLOURS.items():
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
        matching = int((np.abs(pixels - rgb).max(axis=2) <= 12).sum())
        assert matching > 2000, (channel, matching)
