"""Orientation checked by the reading it leads to.

The ink-profile heuristics of :mod:`parsing.normalize` make a cheap first guess of how a
page was stored; a wrong guess leaves Tesseract reading the page upside down or sideways,
which it does with no error, only garbage. So the OCR result itself judges the guess:
a reading is good when enough of its words are real words (common English words or the
printed vocabulary of the forms), read with confidence and lying the right way (Tesseract
reads lines of vertical text by itself). A poor reading makes the page be read again in
the other plausible orientations (the page as received, Tesseract OSD's answer on the page
as received, the half turn of the guess, the quarter turns), stopping as soon as one reads
well; the best reading is kept, however poor. A page that reads well at the first guess
costs nothing more than that first reading.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from PIL import Image

from parsing.normalize import NormalizedPage, orient
from parsing.ocr import OcrTimeout, Word
from parsing.ocr_engine import OSD_TIMEOUT, osd_rotation

# Frequent English words (function words and the commonest content words) and the words
# of official correspondence. Upside-down or sideways print read by Tesseract yields
# letter soup in which words of three letters or more from this list are rare.
COMMON_WORDS = frozenset(
    """
    the and for are but not you all any can had her was one our out day get has him his how
    man new now old see two way who boy did its let put say she too use that with have this
    will your from they know want been good much some time very when come here just like long
    make many more only over such take than them well were what which their there these those
    would about after again being could every first found great other right shall should still
    under where while years also into upon must most made same each both between before above
    below within without during against because through until since then only may per shown
    name date page number office officer department police city county state states united
    law enforcement notice request requested action custody subject person birth sex male
    female citizenship nationality country address street phone telephone fax facsimile sent
    received total pages cover sheet message please call information attached following
    signature title institution immigration customs homeland security detainer detention
    removal order warrant arrest alien release released hours hour federal form forms
    file event case court judge charge charges criminal record records biometric evidence
    statements proceedings pending final probable cause served service copy original
    confidential intended recipient review reviewed return contact report reports regarding
    section part box boxes check checked cancel cancelled cancels previous issued issue
    effective dated day days month year time transfer transferred relay notify maintain
    death provide provided determine determined reason believe individual removable
    """.split()
)

_TOKEN = re.compile(r"[a-z]{3,}")
# A word is taken as read when Tesseract gave it at least this confidence: garbage letters
# occasionally spell a short real word, with low confidence.
WORD_CONFIDENCE = 50.0


@cache
def vocabulary() -> frozenset[str]:
    """Common words plus every word printed on the forms the templates know (keywords,
    field labels, checkbox options): what an upright reading of a page should contain."""
    from parsing.templates import templates

    words = set(COMMON_WORDS)
    for template in templates():
        texts = [*template.keywords, *template.any_keywords, *template.exclude_keywords, *template.all_labels]
        texts += [anchor for box in template.checkboxes for anchor in box.anchors]
        for text in texts:
            words.update(_TOKEN.findall(text.lower()))
    return frozenset(words)


@dataclass(frozen=True)
class Quality:
    """How well a page's OCR words read as text."""

    words: int  # words Tesseract returned
    tokens: int  # of them, words of three letters or more
    known: int  # ... found in the vocabulary with a confident reading
    mean_conf: float  # 0..1 over all words
    sideways: bool = False  # most words of three characters or more stand taller than wide

    @property
    def known_share(self) -> float:
        return self.known / self.tokens if self.tokens else 0.0

    @property
    def good(self) -> bool:
        """Good enough not to try other orientations: several vocabulary words, and they
        make up a fair share of the letter words (upright text, even a poor fax, does;
        letter soup from a turned page does not), lying the right way."""
        return not self.sideways and self.known >= GOOD_KNOWN and self.known_share >= GOOD_SHARE

    def better_than(self, other: Quality) -> bool:
        return (not self.sideways, self.known, self.mean_conf) > (not other.sideways, other.known, other.mean_conf)


# Measured on the sample corpus's pages (fine and standard faxes, grey scans, photos):
# upright readings find 25-320 vocabulary words, 7-72 % of their letter words (a blurred
# phone photo is the 7 %); the same pages read upside down or sideways find 0-2 (<= 1 %).
# These only decide when to stop trying: a poorer reading is always checked further.
GOOD_KNOWN = 5
GOOD_SHARE = 0.05


def reading_quality(words: list[Word]) -> Quality:
    vocab = vocabulary()
    tokens = known = tall = wide = 0
    for word in words:
        if sum(c.isalnum() for c in word.text) >= 3:
            tall += word.height > word.width
            wide += word.width > word.height
        for token in _TOKEN.findall(word.text.lower()):
            tokens += 1
            known += word.conf >= WORD_CONFIDENCE and word.width > word.height and token in vocab
    mean = sum(w.conf for w in words) / len(words) / 100.0 if words else 0.0
    # Tesseract finds and reads lines of vertical text on its own: a reading whose words
    # mostly stand on end, however right, is of a page turned a quarter. Upright, a word of
    # three characters is wider than tall.
    return Quality(len(words), tokens, known, round(mean, 3), sideways=tall > wide)


@dataclass
class Attempt:
    rotation: int  # clockwise degrees undone (normalize's convention)
    quality: Quality


@dataclass
class OrientedReading:
    page: NormalizedPage
    image: Image.Image  # what Tesseract read (the page's ocr_image)
    words: list[Word]
    quality: Quality
    attempts: list[Attempt]  # in the order read; the first is normalize's guess


Reader = Callable[[Image.Image, float], list[Word]]  # (image, timeout) -> words


def candidates(guess: int, osd: Callable[[], int | None]) -> Iterator[int]:
    """Other orientations worth reading, most likely first: the page as received (most
    pages arrive upright, and a wrong guess from the ink is the failure this guards
    against), OSD's answer on the page as received (asked only when that reads poorly too),
    the half turn of the guess, then the quarter turns."""
    tried = {guess}
    order: list[Callable[[], int | None]] = [lambda: 0, osd, lambda: (guess + 180) % 360, lambda: 90, lambda: 270]
    for step in order:
        rotation = step()
        if rotation is not None and rotation not in tried:
            tried.add(rotation)
            yield rotation


def other_orientations(
    guess: NormalizedPage, timeout: float, *, use_osd: bool = True,
) -> Iterator[tuple[NormalizedPage, Image.Image, float]]:
    """The page as received turned to each other likely orientation (:func:`candidates`), with its
    OCR image and what is left of one budget of ``timeout`` seconds for reading it; ends when less
    than a second is left (OSD, asked only when reached, shares the budget)."""
    received = guess.source
    if received is None:
        return
    deadline = time.monotonic() + timeout

    def osd() -> int | None:
        left = deadline - time.monotonic()
        return osd_rotation(received.image(), timeout=min(OSD_TIMEOUT, left)) if use_osd and left >= 1.0 else None

    for rotation in candidates(guess.rotation, osd):
        left = deadline - time.monotonic()
        if left < 1.0:
            return
        page = orient(received, rotation)
        yield page, page.ocr_image(), left


def read_upright(
    guess: NormalizedPage, read: Reader, *, timeout: float, use_osd: bool = True,
    first: tuple[Image.Image, list[Word]] | None = None,
) -> OrientedReading:
    """Read ``guess`` (normalize's orientation; ``first`` is its reading when already had);
    when that reading is poor, read the other orientations until one reads well, and keep
    the best. The extra readings share one budget of ``timeout`` seconds: a page slow to
    read the wrong way round does not fail when it has a reading already."""
    if first is None:
        image = guess.ocr_image()
        first = (image, read(image, timeout))
    quality = reading_quality(first[1])
    best = OrientedReading(guess, first[0], first[1], quality, [Attempt(guess.rotation, quality)])
    # No words at all: a blank page, or one whose marks Tesseract takes for no text in any
    # orientation (it finds text components the same way round or not).
    if quality.good or not quality.words:
        return best
    for page, image, left in other_orientations(guess, timeout, use_osd=use_osd):
        try:
            words = read(image, left)
        except OcrTimeout:
            break
        quality = reading_quality(words)
        best.attempts.append(Attempt(page.rotation, quality))
        if quality.better_than(best.quality):
            best.page, best.image, best.words, best.quality = page, image, words, quality
        if quality.good:
            break
    return best
