"""A page's look in the orientation that reads: the ink's guess checked by the look's own reading.

A look that reads poorly is most often the guess's fault (a page the ink profile took for upside
down): the page is then looked at in the other orientations, most likely first (as received,
OSD's answer, the half turn, the quarter turns: ``parsing.orientation.candidates``), before
anything is read whole; the first look that reads well settles the orientation, so a wrong
guess costs a few band readings, not whole-page ones. When no look reads well (a page with no
print in its bands, or none to read at all), the best one is returned and the whole reading
(``parsing.orientation.read_upright``) judges the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from parsing.look import Look, look_at
from parsing.normalize import NormalizedPage
from parsing.ocr import OcrTimeout
from parsing.orientation import Reader, other_orientations


@dataclass
class LookedPage:
    page: NormalizedPage
    image: Image.Image  # the page's ocr_image, as looked at
    look: Look


def look_upright(guess: NormalizedPage, read: Reader, *, timeout: float) -> LookedPage:
    """The look of ``guess``; when it reads poorly, of the other orientations until one reads
    well (within one budget of ``timeout`` seconds for the extra looks)."""
    image = guess.ocr_image()
    best = LookedPage(guess, image, look_at(image, guess.ink, read, timeout))
    if best.look.quality.good or not best.look.quality.words:
        return best
    for page, turned, left in other_orientations(guess, timeout):
        try:
            look = look_at(turned, page.ink, read, left)
        except OcrTimeout:
            break
        if look.quality.better_than(best.look.quality):
            best = LookedPage(page, turned, look)
        if look.quality.good:
            break
    return best
