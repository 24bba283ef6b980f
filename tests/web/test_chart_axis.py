"""Chart x-axis labels stay readable on a phone, where app.css draws chart text at 24 units:
hours are spaced out instead of running into each other ("00:0003:0006:00"), the last label
is dropped rather than printed over its neighbour, and a long label (a refusal reason) is
cut with an ellipsis to its slot; the full text stays in each bar's tooltip."""

from __future__ import annotations

import re

from passtrace.web import charts


def _axis(svg: str) -> list[tuple[float, str]]:
    return [(float(x), text) for x, text in re.findall(
        r'<text x="([\d.]+)" y="228" text-anchor="(?:middle|end)"[^>]*>([^<]*)</text>', svg)]


def test_hour_labels_do_not_overlap_at_phone_size() -> None:
    hours = [f"{h:02d}:00" for h in range(24)]
    svg = charts.bar_chart(hours, [1.0] * 24, title="t")
    axis = _axis(svg)
    assert axis[0][1] == "00:00" and len(axis) >= 5
    width = charts._text_units("00:00")
    for (x0, _), (x1, _) in zip(axis, axis[1:], strict=False):
        assert x1 - x0 >= width, axis  # centre to centre at least one label wide
    assert all(title in svg for title in ("23:00: 1",))  # every bar keeps its tooltip


def test_long_labels_are_cut_to_their_slot() -> None:
    reasons = ["通行证已过期。", "体温达到发热标准：请复测并上报。",
               "健康状态为红色：禁止通行，请报告值班负责人。"]
    svg = charts.bar_chart(reasons, [12, 8, 1], title="t")
    axis = _axis(svg)
    assert len(axis) == 3
    slot = axis[1][0] - axis[0][0]
    assert all(charts._text_units(text) <= slot for _, text in axis), axis
    assert axis[0][1] == "通行证已过期。"  # short enough: whole
    assert axis[2][1].endswith("…")
    assert reasons[2] in svg  # whole in the tooltip


def test_few_short_labels_are_all_shown() -> None:
    days = ["12-01", "12-02", "12-03", "12-04"]
    assert [t for _, t in _axis(charts.line_chart(days, [1, 2, 3, 4], title="t"))] == days


def test_the_last_label_of_a_line_stays_inside_the_drawing() -> None:
    days = [f"11-{d:02d}" for d in range(20, 31)]
    svg = charts.line_chart(days, list(range(11)), title="t")
    assert re.search(r'<text x="638.0" y="228" text-anchor="end"[^>]*>11-30</text>', svg), svg


def test_no_label_runs_into_the_one_before_it() -> None:
    for n in range(2, 40):
        labels = [f"12-{d:02d}" for d in range(1, n + 1)]
        for svg in (charts.line_chart(labels, list(range(n)), title="t"),
                    charts.bar_chart(labels, list(range(n)), title="t")):
            spans = []
            for x, anchor, text in re.findall(
                    r'<text x="([\d.]+)" y="228" text-anchor="(middle|end)"[^>]*>([^<]*)</text>',
                    svg):
                w = charts._text_units(text)
                left = float(x) - (w / 2 if anchor == "middle" else w)
                spans.append((left, left + w))
                assert left + w <= charts.WIDTH, (n, text)
            assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:], strict=False)), (n, spans)
