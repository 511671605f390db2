"""The balance-over-time chart as inline SVG, drawn on the server: no JavaScript needed.

It carries a <title> and <desc> for screen readers (SVG 1.1 §5.4, WAI-ARIA role="img"); the
page also shows the same numbers as a table.
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from .money import rupiah

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 120, 16, 16, 36


def _ceiling(value: int) -> int:
    """A round top for the y axis: the value rounded up to two significant digits."""
    unit = 10 ** max(len(str(value)) - 2, 0)
    return -(-value // unit) * unit


def balance_chart(points: list[tuple[date, int]], title: str, description: str) -> Markup:
    """A line of month-end balances with a labelled y axis and a tick per January."""
    top = _ceiling(max((amount for _month, amount in points), default=0) or 1)
    span_x, span_y = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + span_x * index / max(len(points) - 1, 1)

    def y(amount: int) -> float:
        return TOP + span_y * (1 - amount / top)

    parts = [
        f'<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        level = y(int(top * fraction))
        parts.append(
            f'<line stroke="#d0d7de" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{level:.1f}" y2="{level:.1f}"/>'
        )
        parts.append(
            f'<text font-size="12" x="{LEFT - 8}" y="{level + 4:.1f}" text-anchor="end">'
            f"{escape(rupiah(int(top * fraction)))}</text>"
        )
    for index, (month, _amount) in enumerate(points):
        if month.month == 1:
            parts.append(
                f'<text font-size="12" x="{x(index):.1f}" y="{HEIGHT - 12}" text-anchor="middle">'
                f"{month.year}</text>"
            )
    line = " ".join(f"{x(i):.1f},{y(amount):.1f}" for i, (_m, amount) in enumerate(points))
    parts.append(f'<polyline fill="none" stroke="#0b6e4f" stroke-width="2.5" points="{line}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


def projection_chart(
    ages: list[int], lines: list[tuple[str, list[int]]], title: str, description: str
) -> Markup:
    """Projected year-end balances by age: one line per scenario, told apart by colour and by
    dash (never colour alone), with a legend; the page shows the same numbers as a table."""
    top = _ceiling(max((max(values, default=0) for _label, values in lines), default=0) or 1)
    span_x, span_y = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - 20

    def x(index: int) -> float:
        return LEFT + span_x * index / max(len(ages) - 1, 1)

    def y(amount: int) -> float:
        return TOP + 20 + span_y * (1 - amount / top)

    parts = [
        f'<svg class="chart" role="img" aria-labelledby="plan-title plan-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="plan-title">{escape(title)}</title>',
        f'<desc id="plan-desc">{escape(description)}</desc>',
    ]
    for fraction in (0, 0.5, 1):
        level = y(int(top * fraction))
        parts.append(
            f'<line stroke="#d0d7de" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{level:.1f}" y2="{level:.1f}"/>'
            f'<text font-size="12" x="{LEFT - 8}" y="{level + 4:.1f}" text-anchor="end">'
            f"{escape(rupiah(int(top * fraction)))}</text>"
        )
    step = max(len(ages) // 8, 1)
    for index, age in enumerate(ages):
        if index % step == 0 or index == len(ages) - 1:
            parts.append(
                f'<text font-size="12" x="{x(index):.1f}" y="{HEIGHT - 12}" '
                f'text-anchor="middle">{age}</text>'
            )
    for number, (label, values) in enumerate(lines):
        colour, dash = STYLES[number % len(STYLES)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{dash}" points="{points}"/>'
            f'<line x1="{LEFT + number * 240}" x2="{LEFT + number * 240 + 28}" y1="10" y2="10" '
            f'stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dash}"/>'
            f'<text font-size="12" x="{LEFT + number * 240 + 34}" y="14">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


STYLES = (("#0b6e4f", "none"), ("#8250df", "6 4"))
