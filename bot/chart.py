"""Stats as pictures: text bars for chat, a PNG for reports.

Ethics leads read trends at a glance; a table of numbers hides the shape. The same
`Chart` data feeds both renderers, so the picture and the text never disagree.
"""
from __future__ import annotations

import io

from .messages import Bar, Chart
from .vocabulary import NEUTRAL_RGB, PALETTE

BAR_WIDTH = 20
FONT_SIZE = 13


def _top(chart: Chart) -> int:
    """One scale for the whole chart: 1 pitfall must not draw as long as 30 concerns."""
    return max((b.value for _, bars in chart.groups for b in bars), default=0) or 1


def text_bars(chart: Chart, width: int = BAR_WIDTH) -> str:
    top = _top(chart)
    lines = [chart.title, f"(one scale: a full bar is {top})"]
    for heading, bars in chart.groups:
        lines.append("")
        lines.append(heading)
        if not bars:
            lines.append("  (none)")
            continue
        label_w = max(len(b.label) for b in bars)
        for b in bars:
            filled = round(width * b.value / top)
            lines.append(f"  {b.label:<{label_w}} {'█' * filled}{'·' * (width - filled)} {b.value}")
    if chart.footer:
        lines.append("")
        lines.append(chart.footer)
    return "\n".join(lines)


def png(chart: Chart, width: int = 720) -> bytes:
    """Horizontal bar chart as PNG bytes (Pillow; no fonts needed beyond its built-in one)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=FONT_SIZE)
    row, pad, label_w = 24, 16, 230
    rows = 2 + sum(2 + max(1, len(bars)) for _, bars in chart.groups) + (2 if chart.footer else 0)
    image = Image.new("RGB", (width, pad * 2 + row * rows), "white")
    draw = ImageDraw.Draw(image)
    y = pad
    _words(draw, (pad, y), chart.title, font, "black")
    y += row * 2
    bar_space = width - label_w - pad * 2 - 60
    top = _top(chart)
    for heading, bars in chart.groups:
        _words(draw, (pad, y), heading, font, (60, 60, 60))
        y += row
        if not bars:
            draw.text((pad + 10, y), "(none)", fill="gray", font=font)
            y += row
        for b in bars:
            _words(draw, (pad + 10, y + 4), b.label[:32], font, "black")
            length = max(1, int(bar_space * b.value / top)) if b.value else 0
            colour = PALETTE.get(b.label, NEUTRAL_RGB)
            if length:
                draw.rectangle((label_w, y + 3, label_w + length, y + row - 5), fill=colour)
            draw.text((label_w + length + 6, y + 4), str(b.value), fill="black", font=font)
            y += row
        y += row
    if chart.footer:
        _words(draw, (pad, y), chart.footer, font, (60, 60, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _words(draw, xy, text: str, font, fill) -> None:
    """Text with a visible gap between words: the built-in font's space is two pixels wide,
    so "Pitfalls detected" read as "Pitfallsdetected"."""
    x, y = xy
    gap = max(font.getlength(" "), FONT_SIZE * 0.4)
    for word in text.split(" "):
        if word:
            draw.text((x, y), word, fill=fill, font=font)
            x += font.getlength(word)
        x += gap


def bars(pairs) -> tuple[Bar, ...]:
    return tuple(Bar(str(label), int(value)) for label, value in pairs)
