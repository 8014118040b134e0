"""Server-rendered SVG charts (DESIGN §6: no chart library, nothing for the phone to run)."""

from markupsafe import Markup


def svg_bar(share: float, width: int = 240, height: int = 14) -> Markup:
    """A horizontal bar for a share in [0, 1]; decorative, the figure is printed next to it."""
    share = max(0.0, min(1.0, float(share or 0)))
    filled = round(width * share)
    return Markup(
        f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true" focusable="false"><rect width="{width}" height="{height}" '
        f'class="bar__track"/><rect width="{filled}" height="{height}" class="bar__fill"/></svg>'
    )


def svg_bars(rows, width: int = 320, bar: int = 18, gap: int = 8, label_width: int = 110) -> Markup:
    """A horizontal bar chart of `rows` [(label, value, shown)]: `shown` is the figure as
    printed. The SVG is labelled as an image; the same figures are in the table next to it,
    which is what a screen reader reads."""
    from markupsafe import escape

    rows = list(rows)
    top = max((float(v or 0) for _l, v, _s in rows), default=0.0) or 1.0
    plot = width - label_width - 70
    height = len(rows) * (bar + gap) + gap
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true" focusable="false">'
    ]
    for i, (label, value, shown) in enumerate(rows):
        y = gap + i * (bar + gap)
        length = round(plot * max(0.0, float(value or 0)) / top)
        parts.append(
            f'<text x="0" y="{y + bar - 4}" class="chart__label">{escape(str(label))[:24]}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" class="bar__fill"/>'
            f'<text x="{label_width + length + 4}" y="{y + bar - 4}" class="chart__value">'
            f"{escape(str(shown))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def svg_sparkline(values, width: int = 240, height: int = 40) -> Markup:
    """A line of `values` (oldest first), scaled to its own maximum; decorative, the latest
    figure and its range are printed beside it."""
    points = [float(v or 0) for v in values]
    if len(points) < 2:
        points = (points or [0.0]) * 2
    top = max(points) or 1.0
    step = width / (len(points) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(points)
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true" focusable="false"><polyline points="{coords}" class="spark__line" '
        f'fill="none"/></svg>'
    )


def svg_strip(states, width: int = 288, height: int = 16) -> Markup:
    """A component's 24 hours as cells (oldest first): each cell is ok, degraded, down or not
    checked; decorative, the uptime is printed beside it."""
    cell = width / max(1, len(states))
    rects = "".join(
        f'<rect x="{i * cell:.1f}" width="{max(1.0, cell - 1):.1f}" height="{height}" '
        f'class="strip__{getattr(s, "value", s) or "none"}"/>'
        for i, s in enumerate(states)
    )
    return Markup(
        f'<svg class="strip" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true" focusable="false">{rects}</svg>'
    )
