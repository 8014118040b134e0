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
