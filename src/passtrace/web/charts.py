"""Server-side inline SVG charts: bar and line, with axis labels and an accessible title.

Reusable by any page: pass labels and values, get markup that needs no script
(CSP-friendly) and scales with its container (viewBox).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 260
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 16, 48
_ids = itertools.count(1)


def _nice_max(values: Sequence[float], fixed: float | None) -> float:
    """The top of the y axis: 4 grid steps, each a whole number (counts of people)."""
    if fixed is not None:
        return fixed
    top = max((v for v in values), default=0.0)
    if top <= 0:
        return 4.0
    scale = 1.0
    while True:
        for step in (4, 8, 12, 20, 40, 60, 80):
            if top <= step * scale:
                return step * scale
        scale *= 10


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"
    return text + unit


# On a phone the axis text is drawn at 24 units (app.css: svg.chart text), so labels are
# spaced and cut for that size: at 11 units on a desktop they only get more room.
PHONE_TEXT = 24.0


def _text_units(text: str) -> float:
    """Rough width of `text` at PHONE_TEXT: a CJK character is 1 em, anything else 0.6."""
    return sum(PHONE_TEXT if ord(ch) > 0x2E7F else PHONE_TEXT * 0.6 for ch in text)


def _axis_labels(labels: Sequence[str], xs: Sequence[float]) -> list[tuple[int, str]]:
    """Which x labels to draw, and their text, so that none overlaps its neighbour on a
    phone: every k-th label (k grows until short labels such as hours fit), the last one
    only when it has room, and a label still too wide for its slot (a long reason) cut
    with an ellipsis (the full text is in the bar's tooltip and the table beside it)."""
    n = len(labels)
    if n == 0:
        return []
    gap = (xs[-1] - xs[0]) / (n - 1) if n > 1 else float(WIDTH - PAD_L - PAD_R)
    every = max(1, n // 8)
    widest = max(_text_units(label) for label in labels)
    while every < n and widest > gap * every - 6 and gap * every < 150:
        every += 1
    room = gap * every - 6
    shown = list(range(0, n, every))
    if shown[-1] != n - 1 and (n - 1 - shown[-1]) * gap - 6 >= widest:
        shown.append(n - 1)
    return [(i, _fit(labels[i], room)) for i in shown]


def _fit(text: str, room: float) -> str:
    if _text_units(text) <= room:
        return text
    out = ""
    for ch in text:
        if _text_units(out + ch + "…") > room:
            break
        out += ch
    return (out or text[:1]) + "…"


def _frame(title: str, desc: str, body: list[str], y_max: float, unit: str, y_label: str,
           labels: Sequence[str], xs: Sequence[float], css_class: str) -> Markup:
    plot_h = HEIGHT - PAD_T - PAD_B
    n = next(_ids)
    out = [f'<svg class="chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" aria-labelledby="ct-{n} cd-{n}" '
           'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="ct-{n}">{escape(title)}</title>',
           f'<desc id="cd-{n}">{escape(desc)}</desc>']
    for i in range(5):  # y grid and tick labels
        v = y_max * i / 4
        y = PAD_T + plot_h - plot_h * i / 4
        out.append(f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" y2="{y:.1f}" '
                   'stroke="#d9dee3" stroke-width="1"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
                   f'font-size="11" fill="#5f6b76">{escape(_fmt(v, unit))}</text>')
    right_of_last = float("-inf")
    for i, label in _axis_labels(labels, xs):
        # A label centred on the last point of a line would stick out of the drawing: it
        # ends at the edge instead, or is left out when that would run into its neighbour.
        x, anchor, half = xs[i], "middle", _text_units(label) / 2
        if x + half > WIDTH:
            x, anchor = WIDTH - 2, "end"
        left = x - half if anchor == "middle" else x - 2 * half
        if left < right_of_last + 4:
            continue
        right_of_last = left + 2 * half
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_B + 16}" text-anchor="{anchor}" '
                   f'font-size="11" fill="#5f6b76">{escape(label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{PAD_T + plot_h / 2:.1f}" font-size="11" fill="#5f6b76" '
                   f'transform="rotate(-90 12 {PAD_T + plot_h / 2:.1f})" text-anchor="middle">'
                   f'{escape(y_label)}</text>')
    out.append(f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{WIDTH - PAD_R}" '
               f'y2="{PAD_T + plot_h}" stroke="#5f6b76"/>')
    out.extend(body)
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, desc: str = "",
              unit: str = "", y_label: str = "", y_max: float | None = None,
              color: str = "#0b5cad") -> Markup:
    """Render a vertical bar chart; each bar carries its value as a tooltip."""
    top = _nice_max(values, y_max)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    n = max(1, len(values))
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    xs = [PAD_L + slot * i + slot / 2 for i in range(len(values))]
    body = []
    for label, value, x in zip(labels, values, xs, strict=True):
        h = plot_h * min(max(value, 0), top) / top
        body.append(f'<rect x="{x - bar_w / 2:.1f}" y="{PAD_T + plot_h - h:.1f}" '
                    f'width="{bar_w:.1f}" height="{h:.1f}" fill="{escape(color)}">'
                    f'<title>{escape(label)}: {escape(_fmt(value, unit))}</title></rect>')
    return _frame(title, desc or title, body, top, unit, y_label, labels, xs, "bar")


def line_chart(labels: Sequence[str], values: Sequence[float], *, title: str, desc: str = "",
               unit: str = "", y_label: str = "", y_max: float | None = None,
               color: str = "#0a7d32", reference: float | None = None,
               reference_label: str = "") -> Markup:
    """Render a line chart with a dot (and tooltip) per point; `reference` draws a dashed
    horizontal line (a threshold, e.g. lead time + safety days) labelled on the right."""
    top = _nice_max([*values, *([reference] if reference is not None else [])], y_max)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    n = len(values)
    xs = [PAD_L + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    ys = [PAD_T + plot_h - plot_h * min(max(v, 0), top) / top for v in values]
    body = []
    if reference is not None:
        y = PAD_T + plot_h - plot_h * min(max(reference, 0), top) / top
        body.append(f'<line class="reference" x1="{PAD_L}" y1="{y:.1f}" x2="{WIDTH - PAD_R}" '
                    f'y2="{y:.1f}" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4">'
                    f'<title>{escape(reference_label)}: {escape(_fmt(reference, unit))}</title>'
                    '</line>')
        body.append(f'<text x="{WIDTH - PAD_R}" y="{y - 5:.1f}" text-anchor="end" '
                    f'font-size="11" fill="#c0392b">{escape(reference_label)}</text>')
    if n > 1:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        body.append(f'<polyline points="{points}" fill="none" stroke="{escape(color)}" '
                    'stroke-width="2.5"/>')
    for label, value, x, y in zip(labels, values, xs, ys, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{escape(color)}">'
                    f'<title>{escape(label)}: {escape(_fmt(value, unit))}</title></circle>')
    return _frame(title, desc or title, body, top, unit, y_label, labels, xs, "line")


def grouped_bar_chart(labels: Sequence[str],
                      series: Sequence[tuple[str, Sequence[float], str]], *, title: str,
                      desc: str = "", unit: str = "", y_label: str = "",
                      y_max: float | None = None) -> Markup:
    """Render bars side by side per label, one colour per series (name, values, colour),
    with a legend under the axis."""
    top = _nice_max([v for _, values, _ in series for v in values], y_max)
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.5, slot * 0.8 / max(1, len(series)))
    xs = [PAD_L + slot * i + slot / 2 for i in range(len(labels))]
    body = []
    for k, (name, values, color) in enumerate(series):
        offset = (k - len(series) / 2) * bar_w
        for label, value, x in zip(labels, values, xs, strict=True):
            h = plot_h * min(max(value, 0), top) / top
            body.append(f'<rect x="{x + offset:.1f}" y="{PAD_T + plot_h - h:.1f}" '
                        f'width="{bar_w:.1f}" height="{h:.1f}" fill="{escape(color)}">'
                        f'<title>{escape(name)} {escape(label)}: {escape(_fmt(value, unit))}'
                        '</title></rect>')
        lx = PAD_L + k * 140
        body.append(f'<rect x="{lx}" y="{HEIGHT - 14}" width="12" height="12" '
                    f'fill="{escape(color)}"/>'
                    f'<text x="{lx + 18}" y="{HEIGHT - 3}" font-size="12" fill="#1d2329">'
                    f'{escape(name)}</text>')
    return _frame(title, desc or title, body, top, unit, y_label, labels, xs, "bar grouped")


def timeline_chart(lanes: Sequence[str],
                   marks: Sequence[tuple[int, float, float | None, str, str]],
                   ticks: Sequence[tuple[float, str]], *, title: str,
                   desc: str = "") -> Markup:
    """Render marks on one horizontal time axis, one lane (row) per kind.

    A mark is (lane index, start, end or None, tooltip, colour) with start and end as
    fractions of the axis (0..1): an interval is a bar, an instant (end None) a dot.
    `ticks` are (fraction, label) along the axis.
    """
    lane_h = 34
    left, right, top = 110, 16, 12
    height = top + lane_h * max(1, len(lanes)) + 40
    plot_w = WIDTH - left - right
    n = next(_ids)
    out = [f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-labelledby="ct-{n} cd-{n}" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="ct-{n}">{escape(title)}</title>',
           f'<desc id="cd-{n}">{escape(desc or title)}</desc>']
    bottom = top + lane_h * max(1, len(lanes))
    for i, lane in enumerate(lanes):
        y = top + lane_h * i
        out.append(f'<rect x="{left}" y="{y}" width="{plot_w}" height="{lane_h}" '
                   f'fill="{"#f4f6f8" if i % 2 == 0 else "#ffffff"}"/>')
        out.append(f'<text x="{left - 8}" y="{y + lane_h / 2 + 4:.1f}" text-anchor="end" '
                   f'font-size="12" fill="#1d2329">{escape(lane)}</text>')
    for frac, label in ticks:
        x = left + plot_w * min(max(frac, 0.0), 1.0)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" '
                   'stroke="#d9dee3" stroke-width="1"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
                   f'fill="#5f6b76">{escape(label)}</text>')
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - right}" y2="{bottom}" '
               'stroke="#5f6b76"/>')
    for lane_i, start, end, tip, color in marks:
        cy = top + lane_h * lane_i + lane_h / 2
        x0 = left + plot_w * min(max(start, 0.0), 1.0)
        if end is None:
            out.append(f'<circle cx="{x0:.1f}" cy="{cy:.1f}" r="4.5" fill="{escape(color)}">'
                       f'<title>{escape(tip)}</title></circle>')
            continue
        x1 = left + plot_w * min(max(end, 0.0), 1.0)
        out.append(f'<rect x="{x0:.1f}" y="{cy - 8:.1f}" width="{max(2.0, x1 - x0):.1f}" '
                   f'height="16" rx="3" fill="{escape(color)}" fill-opacity="0.8">'
                   f'<title>{escape(tip)}</title></rect>')
    out.append("</svg>")
    return Markup("".join(out))
