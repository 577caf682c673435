"""A hand-rolled inline SVG bar chart for the monthly statistics (R19): no JavaScript, no
CDN (the plant network is closed), prints as it shows."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, BAR_H, GAP, LABEL_W, VALUE_W = 640, 22, 8, 60, 50


def bar_chart(rows: Sequence[tuple[str, int]], *, title: str, label_width: int = LABEL_W) -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    height = max(1, len(rows)) * (BAR_H + GAP) + 30
    top = max((v for _, v in rows), default=0) or 1
    span = WIDTH - label_width - VALUE_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 20 + i * (BAR_H + GAP)
        w = max(2, round(span * value / top)) if value else 0
        parts.append(
            f'<text x="0" y="{y + BAR_H * 0.7:.0f}">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{w}" height="{BAR_H}" rx="3">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text x="{label_width + w + 6}" y="{y + BAR_H * 0.7:.0f}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
