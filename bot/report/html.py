"""report.html: the summary as one self-contained page for ethics leads.

Everything is inline (styles, charts as SVG, no scripts, no fonts or images to fetch), so the
file can be mailed, archived or opened offline and shows the same thing years later. Text
is HTML, never SVG text: bars stretch to any width while labels keep a readable size, which
is what makes one layout work from a phone to a laptop and on paper. The markup is also
well-formed XML, so it can be checked by a parser.
"""
from __future__ import annotations

from html import escape

from ..vocabulary import CATEGORY_TABLE, LABELS, NEUTRAL_RGB, css_colour

NAMES = {c.name: c.report_name for c in CATEGORY_TABLE}
SKIP_NAMES = {"bot": "bots", "system": "system", "empty": "empty", "outside-dates": "outside the dates",
              "other-channel": "other channels"}
COLOURS = {c.name: css_colour(c.rgb) for c in CATEGORY_TABLE}
NEUTRAL = css_colour(NEUTRAL_RGB)
CHANNELS_SHOWN = 12

CSS = """
:root{--ink:#1d2330;--soft:#5b6472;--line:#dde1e7;--bg:#f5f6f8;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 16px 40px}
h1{font-size:1.7rem;line-height:1.2;margin:0 0 4px}
h2{font-size:1.15rem;margin:0 0 12px}
.sub,.note,footer{color:var(--soft);font-size:.9rem}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:16px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card b{display:block;font-size:1.8rem;line-height:1.2}
.card span{color:var(--soft);font-size:.85rem}
.card.warn{border-color:#e67e22;background:#fff7ef}
.rows{display:grid;grid-template-columns:fit-content(15rem) 1fr auto;gap:8px 12px;align-items:center}
.row{display:contents}
.row .label{overflow-wrap:anywhere}
.row .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.row small{color:var(--soft)}
svg.bar{width:100%;height:16px;display:block;background:#eef0f3;border-radius:3px}
svg.weeks{width:100%;height:200px;display:block;border-bottom:1px solid var(--soft)}
.axis{display:flex;justify-content:space-between;color:var(--soft);font-size:.8rem;margin-top:4px}
.ymax{color:var(--soft);font-size:.8rem}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:0 0 10px;padding:0;list-style:none;font-size:.9rem}
.key{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin-right:6px;vertical-align:-.05em}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:16px;background:none;border:0;padding:0}
.pair>section{margin:0}
blockquote{margin:8px 0;padding:8px 12px;border-left:4px solid var(--line);background:#fafbfc;overflow-wrap:anywhere}
blockquote small{display:block;color:var(--soft)}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:3px 6px;border-bottom:1px solid var(--line)}
th:first-child,td:first-child{text-align:left}
.scroll{overflow-x:auto}
ul.errors{padding-left:1.2em;overflow-wrap:anywhere;font-size:.9rem}
code{font-size:.85em}
@media (max-width:640px){
  main{padding:16px 10px 32px}
  h1{font-size:1.35rem}
  .pair{grid-template-columns:1fr}
  .pair>section+section{margin-top:16px}
  .rows{grid-template-columns:1fr auto;gap:2px 10px}
  .row .label{grid-column:1/-1;margin-top:6px}
  .card b{font-size:1.5rem}
}
@media print{
  body{background:#fff;font-size:11pt}
  main{max-width:none;padding:0}
  section,.card{border-color:#bbb;break-inside:avoid}
  .cards{grid-auto-flow:column;grid-auto-columns:1fr}
  details{display:none}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def render(summary: dict) -> str:
    counts = summary["counts"]
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        "<title>Governance concerns report</title>",
        f"<style>{CSS}</style></head><body><main>",
        _header(summary),
        _cards(summary),
    ]
    if counts["triaged"]:
        parts += [_categories(summary), _weeks(summary), _channels(summary),
                  '<div class="pair">', _top("Top intersection topics", summary["top_topics"], "topic"),
                  _top("Conflation pitfalls detected", summary["top_pitfalls"], "pitfall"), "</div>",
                  _examples(summary)]
    parts += [_errors(summary), _footer(summary), "</main></body></html>\n"]
    return "".join(parts)


def _header(s: dict) -> str:
    period = s.get("period") or {}
    span = f"{period['first'][:10]} to {period['last'][:10]}" if period.get("first") else "no dated messages"
    sources = ", ".join(sorted({i["format"] for i in s.get("inputs", []) if i["format"] != "unknown"})) or "no readable input"
    return (f"<header><h1>Governance concerns raised</h1>"
            f'<p class="sub">{escape(span)} · from {escape(sources)} exports · generated {escape(s.get("generated_at", "")[:16].replace("T", " "))} UTC</p></header>')


def _cards(s: dict) -> str:
    c = s["counts"]
    triaged = c["triaged"]
    governance = triaged - s["by_category"]["unclear"]
    skipped = sum(c["skipped"].values())
    cards = [
        ("triaged", f"{triaged:,}", f"messages triaged, of {c['read']:,} read", ""),
        ("governance", _pct(governance, triaged), f"were governance concerns ({governance:,})", ""),
        ("unclear", _pct(s["by_category"]["unclear"], triaged), "were not a governance concern", ""),
        ("skipped", f"{skipped:,}", "skipped: " + (", ".join(f"{n:,} {SKIP_NAMES.get(r, r)}" for r, n in c["skipped"].items()) or "none"), ""),
    ]
    if c["errors"]:
        cards.append(("errors", f"{c['errors']:,}", "could not be read (see below)", " warn"))
    body = "".join(f'<div class="card{cls}"><b id="{key}">{value}</b><span>{escape(text)}</span></div>' for key, value, text, cls in cards)
    return f'<section class="cards">{body}</section>'


def _categories(s: dict) -> str:
    total = s["counts"]["triaged"]
    top = max(s["by_category"].values()) or 1
    rows = "".join(_row(NAMES[c], [(c, n)], top, f"{n:,} <small>{_pct(n, total)}</small>") for c, n in s["by_category"].items())
    return f'<section id="by-category"><h2>By category</h2><div class="rows">{rows}</div></section>'


def _weeks(s: dict) -> str:
    weeks = s["by_week"]
    if not weeks:
        return '<section><h2>Week by week</h2><p class="note">No message had a date.</p></section>'
    top = max(w["total"] for w in weeks) or 1
    rects = []
    for i, w in enumerate(weeks):
        y = 100.0
        tip = f"week of {w['week']}: {w['total']:,} (" + ", ".join(f"{c} {w[c]:,}" for c in LABELS) + ")"
        bars = []
        for c in LABELS:
            h = 100.0 * w[c] / top
            if h:
                y -= h
                bars.append(f'<rect x="{i * 10 + 1}" y="{y:.3f}" width="8" height="{h:.3f}" fill="{COLOURS[c]}"/>')
        rects.append(f"<g><title>{escape(tip)}</title>{''.join(bars)}</g>")
    grid = "".join(f'<line x1="0" x2="{len(weeks) * 10}" y1="{y}" y2="{y}" stroke="#dde1e7" vector-effect="non-scaling-stroke"/>' for y in (0, 50))
    # A few weeks must not turn into a few very wide blocks: at most 64 px a week.
    cap = f' style="max-width:{max(8, len(weeks)) * 64}px"'
    svg = (f'<svg class="weeks"{cap} viewBox="0 0 {len(weeks) * 10} 100" preserveAspectRatio="none" role="img" '
           f'aria-label="messages per week by category, {len(weeks)} weeks">{grid}{"".join(rects)}</svg>')
    middle = f"<span>{weeks[len(weeks) // 2]['week']}</span>" if len(weeks) > 2 else ""
    axis = f'<div class="axis"{cap}><span>{weeks[0]["week"]}</span>{middle}<span>{weeks[-1]["week"]}</span></div>'
    table = "".join(f"<tr><td>{w['week']}</td>" + "".join(f"<td>{w[c]:,}</td>" for c in LABELS) + f"<td>{w['total']:,}</td></tr>" for w in weeks)
    head = "<tr><th>week of</th>" + "".join(f"<th>{c}</th>" for c in LABELS) + "<th>all</th></tr>"
    return (f'<section id="by-week"><h2>Week by week</h2>{_legend()}<div class="ymax">{top:,} a week at most</div>{svg}{axis}'
            f'<details><summary>The numbers</summary><div class="scroll"><table>{head}{table}</table></div></details></section>')


def _channels(s: dict) -> str:
    channels = list(s["by_channel"].items())
    top = max((c["total"] for _, c in channels), default=1) or 1
    rows = "".join(_row("#" + ch if ch else "(no channel)", [(c, counts[c]) for c in LABELS], top, f"{counts['total']:,}")
                   for ch, counts in channels[:CHANNELS_SHOWN])
    more = len(channels) - CHANNELS_SHOWN
    note = f'<p class="note">and {more:,} more channels (all of them in summary.json)</p>' if more > 0 else ""
    return f'<section id="by-channel"><h2>By channel</h2>{_legend()}<div class="rows">{rows}</div>{note}</section>'


def _top(title: str, items: list, key: str) -> str:
    if not items:
        return f'<section><h2>{title}</h2><p class="note">None detected.</p></section>'
    top = items[0]["count"] or 1
    rows = "".join(_row(i[key], [(None, i["count"])], top, f"{i['count']:,}") for i in items)
    return f'<section><h2>{title}</h2><div class="rows">{rows}</div></section>'


def _examples(s: dict) -> str:
    examples = s.get("examples") or {}
    if not examples:
        return ""
    blocks = []
    for c in LABELS:
        quotes = "".join(
            f"<blockquote>{escape(e['text'])}<small>#{escape(e['channel'])} · {escape(e['ts'][:10])} · confidence {e['confidence']:.2f}</small></blockquote>"
            for e in examples.get(c, [])
        )
        if quotes:
            blocks.append(f"<h3>{NAMES[c]}</h3>{quotes}")
    return f'<section id="examples"><h2>Most confident examples</h2>{"".join(blocks)}</section>'


def _errors(s: dict) -> str:
    errors = s.get("errors") or []
    if not errors:
        return ""
    items = "".join(
        f"<li><code>{escape(e['file'])}{':' + str(e['line']) if e.get('line') else ''}</code>: {escape(e['error'])}</li>" for e in errors[:200]
    )
    more = f"<li>and {len(errors) - 200:,} more in summary.json</li>" if len(errors) > 200 else ""
    return f'<section id="problems"><h2>Could not be read</h2><p class="note">Everything else was processed.</p><ul class="errors">{items}{more}</ul></section>'


def _footer(s: dict) -> str:
    return ("<footer><p>Technical safety: making a system behave as intended. Societal safety: who decides, who benefits, "
            "who bears the costs. Both: problems that need the two kinds of work. Skipped: messages from bots, system messages "
            "(joins, leaves, pins, renames), and messages with no words (only mentions, emoji or links). "
            f"User ids are stored only as salted hashes. Knowledge version {escape(str(s.get('knowledge_version', '')))}.</p></footer>")


def _row(label: str, segments: list, top: int, number: str) -> str:
    x = 0.0
    rects = []
    for category, n in segments:
        w = 100.0 * n / top
        if w:
            rects.append(f'<rect x="{x:.3f}" y="0" width="{w:.3f}" height="10" fill="{COLOURS.get(category, NEUTRAL)}"/>')
            x += w
    aria = escape(f"{label}: {number.split(' ')[0]}")
    return (f'<div class="row"><span class="label" title="{escape(label)}">{escape(label)}</span>'
            f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{aria}">{"".join(rects)}</svg>'
            f'<span class="num">{number}</span></div>')


def _legend() -> str:
    items = "".join(f'<li><span class="key" style="background:{COLOURS[c]}"></span>{NAMES[c]}</li>' for c in LABELS)
    return f'<ul class="legend">{items}</ul>'


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"
