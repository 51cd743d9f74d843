"""Issue 10, point 5: stats that don't mislead. Readable PNG headings, weekly rows that match
the window, small talk left out."""
import io

import pytest
from PIL import Image

from bot.chart import bars, png
from bot.config import Config
from bot.messages import DM, Chart, Incoming
from bot.reload import KnowledgeHolder
from bot.service import Service
from bot.store import open_store


def _gaps(image: Image.Image, top: int, bottom: int) -> list[int]:
    """Widths of the blank column runs between the first and last ink of a band of rows."""
    grey = image.convert("L")
    inked = [any(grey.getpixel((x, y)) < 160 for y in range(top, bottom)) for x in range(grey.width)]
    first, last = inked.index(True), len(inked) - 1 - inked[::-1].index(True)
    gaps, run = [], 0
    for ink in inked[first:last + 1]:
        if ink:
            if run:
                gaps.append(run)
            run = 0
        else:
            run += 1
    return gaps


def test_png_headings_have_a_visible_space_between_words():
    chart = Chart("Triage stats", (("Pitfalls detected", bars([])),), "")
    image = Image.open(io.BytesIO(png(chart)))
    gaps = _gaps(image, 16 + 24 * 2, 16 + 24 * 3)  # the heading's row
    assert len(gaps) >= 1 and max(gaps) >= 5, gaps  # was a 2-pixel space: "Pitfallsdetected"
    assert sorted(gaps)[-2] < max(gaps) or len(gaps) == 1  # the word gap stands out from letter gaps


@pytest.fixture
def service(mini_dir, tmp_path):
    s = Service(KnowledgeHolder(mini_dir, min_interval=0), open_store(None, tmp_path / "data"), Config())
    yield s
    s.close()


def test_small_talk_does_not_count_in_stats(service):
    for text in ("hi", "thanks!", "good morning", "the chatbot made up a citation"):
        service.handle(Incoming("slack", "T1", "C1", "U1", text, DM))
    chart = service.stats_chart(7)
    by_category = dict((b.label, b.value) for b in chart.groups[0][1])
    assert sum(by_category.values()) == 1 and by_category["technical"] == 1
    assert chart.groups[0][0] == "Concerns by category (1 in all)"


@pytest.mark.parametrize("days, rows", [(7, {1, 2}), (30, {5}), (90, {13})])
def test_weekly_rows_match_the_window(service, days, rows):
    service.handle(Incoming("slack", "T1", "C1", "U1", "the chatbot made up a citation", DM))
    weekly = service.stats_chart(days).groups[3][1]
    assert len(weekly) in rows
    assert [b.value for b in weekly][-1] == 1 and sum(b.value for b in weekly) == 1
