"""Text colours that read on the window's own background, light or dark (the desktop's theme)."""

from PySide6.QtGui import QColor

# Verdict colours with at least 4.5:1 contrast (WCAG AA) on the window's own background: dark shades on a
# light palette, light ones on a dark palette (a desktop's dark theme)
LIGHT = {"fits": "#17713a", "tight": "#9a4d00", "no": "#b71c1c"}
DARK = {"fits": "#5fd38a", "tight": "#ffb74d", "no": "#ff8a80"}
TIGHT_COLOR = LIGHT["tight"]  # amber, 5.3:1 on a light grey window


def luminance(color: QColor) -> float:
    """WCAG relative luminance."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def verdict_colors(background: QColor) -> dict[str, str]:
    return DARK if luminance(background) < 0.2 else LIGHT
