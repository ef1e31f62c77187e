"""Small server-side SVG charts for the dashboard: no JavaScript, no external assets, so the
page works offline and prints.

Every chart is an accessible image: `role="img"` with a `<title>` and a `<desc>` that states
the figures in words, and the values are also drawn as text next to their marks. All labels
are escaped. Colours come from a fixed palette with enough contrast on white, and series are
told apart by their labels, never by colour alone.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import count
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

PALETTE = ("#1f6feb", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#5c677d")
_chart_ids = count(1)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def _svg(template: str, *args: object) -> str:
    """`template.format(*args)` with every text argument escaped; numbers keep their type so
    the template can format them (`{:.1f}`)."""
    return template.format(*(escape(arg) if isinstance(arg, str) else arg for arg in args))


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_chart_ids)}"


def _open_svg(width: int, height: int, title: str, description: str) -> tuple[str, str]:
    chart_id = _id("chart")
    head = _svg(
        '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="11">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
    )
    return head, chart_id


def _day_label(day: date) -> str:
    return day.strftime("%d.%m.")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def line_chart_percent(
    days: Sequence[date], values: Sequence[float | None], *, title: str, width: int = 640
) -> SafeString:
    """A daily rate (0–1) as a line with dots; days without data leave a gap. The latest
    value and the range's minimum are written on the chart."""
    height, left, right, top, bottom = 220, 44, 12, 14, 34
    plot_width, plot_height = width - left - right, height - top - bottom
    known = [value for value in values if value is not None]
    description = _("%(days)s days; no data.") % {"days": len(days)}
    if known:
        description = _(
            "%(days)s days from %(first)s to %(last)s; lowest %(low)s, latest %(last_value)s."
        ) % {
            "days": len(days),
            "first": _day_label(days[0]),
            "last": _day_label(days[-1]),
            "low": _percent(min(known)),
            "last_value": _percent(known[-1]),
        }
    head, _chart = _open_svg(width, height, title, description)
    parts = [head]
    step = plot_width / max(len(days) - 1, 1)

    def x_of(index: int) -> float:
        return left + index * step

    def y_of(value: float) -> float:
        return top + (1 - value) * plot_height

    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = y_of(tick)
        parts.append(
            _svg(
                '<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#d0d7de" '
                'stroke-dasharray="{}"/><text x="{}" y="{:.1f}" text-anchor="end" '
                'fill="#57606a">{} %</text>',
                left,
                width - right,
                y,
                y,
                "" if tick in (0, 1) else "3 3",
                left - 6,
                y + 4,
                int(tick * 100),
            )
        )
    segments: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((x_of(index), y_of(value)))
    for segment in segments:
        if len(segment) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            parts.append(
                _svg(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                    points,
                    PALETTE[0],
                )
            )
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        if value is not None:
            parts.append(
                _svg(
                    '<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}">'
                    "<title>{}: {}</title></circle>",
                    x_of(index),
                    y_of(value),
                    PALETTE[0],
                    _day_label(day),
                    _percent(value),
                )
            )
    label_every = max(len(days) // 8, 1)
    for index, day in enumerate(days):
        if index % label_every == 0 or index == len(days) - 1:
            parts.append(
                _svg(
                    '<text x="{:.1f}" y="{}" text-anchor="middle" fill="#57606a">{}</text>',
                    x_of(index),
                    height - bottom + 16,
                    _day_label(day),
                )
            )
    if known:
        last_index = max(index for index, value in enumerate(values) if value is not None)
        parts.append(
            _svg(
                '<text x="{:.1f}" y="{:.1f}" text-anchor="end" font-weight="600" '
                'fill="#1f2328">{}</text>',
                x_of(last_index),
                y_of(values[last_index] or 0) - 8,
                _percent(values[last_index]),
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # every part went through _svg (escaped)


def stacked_columns(
    days: Sequence[Any],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    label_of: Callable[[Any], str] = _day_label,
) -> SafeString:
    """Daily counts stacked per series (e.g. mentions per channel), with a legend that
    carries each series' total, and each day's total as a tooltip. Other columns than days
    (an incident's minutes) name themselves with `label_of`."""
    height, left, right, top, bottom = 252, 44, 12, 14, 70
    plot_width, plot_height = width - left - right, height - top - bottom
    totals = [sum(int(item.values[index] or 0) for item in series) for index in range(len(days))]
    peak = max(totals, default=0) or 1
    description = "; ".join(
        f"{item.label}: {int(sum(value or 0 for value in item.values))}" for item in series
    ) or _("No data.")
    head, _chart = _open_svg(width, height, title, description)
    parts = [head]
    slot = plot_width / max(len(days), 1)
    bar = max(slot * 0.75, 1)
    for tick in (0, 0.5, 1):
        y = top + (1 - tick) * plot_height
        parts.append(
            _svg(
                '<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#d0d7de"/>'
                '<text x="{}" y="{:.1f}" text-anchor="end" fill="#57606a">{}</text>',
                left,
                width - right,
                y,
                y,
                left - 6,
                y + 4,
                round(peak * tick),
            )
        )
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar) / 2
        y = top + plot_height
        parts.append(_svg("<g><title>{}: {}</title>", label_of(day), totals[index]))
        for series_index, item in enumerate(series):
            value = int(item.values[index] or 0)
            if not value:
                continue
            bar_height = value / peak * plot_height
            y -= bar_height
            parts.append(
                _svg(
                    '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>',
                    x,
                    y,
                    bar,
                    bar_height,
                    PALETTE[series_index % len(PALETTE)],
                )
            )
        parts.append(mark_safe("</g>"))
    label_every = max(len(days) // 8, 1)
    for index, day in enumerate(days):
        if index % label_every == 0:
            parts.append(
                _svg(
                    '<text x="{:.1f}" y="{}" text-anchor="middle" fill="#57606a">{}</text>',
                    left + index * slot + slot / 2,
                    top + plot_height + 14,
                    label_of(day),
                )
            )
    legend_x, legend_y = left, height - 34
    for series_index, item in enumerate(series):
        label = f"{item.label} ({int(sum(value or 0 for value in item.values))})"
        label_width = 26 + round(len(label) * 6.8)  # ~6.8 px per character at 11 px
        if legend_x + label_width > width - right and legend_x > left:
            legend_x, legend_y = left, legend_y + 16
        parts.append(
            _svg(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}" fill="#1f2328">{}</text>',
                legend_x,
                legend_y,
                PALETTE[series_index % len(PALETTE)],
                legend_x + 14,
                legend_y + 9,
                label,
            )
        )
        legend_x += label_width
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def horizontal_bars(
    items: Sequence[tuple[str, int]], *, title: str, width: int = 420
) -> SafeString:
    """One bar per label (e.g. open tickets per stage) with its value written after it."""
    row, left, right, top = 28, 110, 50, 8
    height = top * 2 + row * max(len(items), 1)
    peak = max((value for _label, value in items), default=0) or 1
    description = "; ".join(f"{label}: {value}" for label, value in items) or _("No data.")
    head, _chart = _open_svg(width, height, title, description)
    parts = [head]
    for index, (label, value) in enumerate(items):
        y = top + index * row
        bar_width = value / peak * (width - left - right)
        parts.append(
            _svg(
                '<text x="{}" y="{}" text-anchor="end" fill="#1f2328">{}</text>'
                '<rect x="{}" y="{}" width="{:.1f}" height="18" rx="3" fill="{}"/>'
                '<text x="{:.1f}" y="{}" fill="#1f2328" font-weight="600">{}</text>',
                left - 8,
                y + 13,
                label,
                left,
                y,
                bar_width,
                PALETTE[index % len(PALETTE)],
                left + bar_width + 6,
                y + 13,
                value,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))
