"""One palette for every view of the themes: the codebook's `color` where given, otherwise a
colour-blind-safe default, as hex for the HTML report and as rich styles for the terminal.

Codebooks name colours the way rich does ("cyan", "bright_green", "dark_orange3", "#1f77b4",
"color(33)"). The sixteen standard terminal names have no fixed colour (each terminal theme
draws them differently), so they are mapped to the nearest hue of the Okabe–Ito palette
(Okabe & Ito 2008, "Color Universal Design"), which readers with the common colour-vision
deficiencies can still tell apart; the bright variants get a darker or lighter shade of the same
hue. Hex codes and the 256-colour names are exact. A theme without a colour gets the next
Okabe–Ito colour that no other theme of the codebook uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from annotate.model import Codebook

# Okabe–Ito without black (black is the text colour): orange, sky blue, bluish green, yellow,
# blue, vermillion, reddish purple; then grey so a ninth theme still gets a colour.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
DEFAULTS = (*OKABE_ITO, "#999999", "#882255", "#44AA99", "#117733", "#332288")

# The standard terminal colour names, mapped to Okabe–Ito hues (see the module docstring).
ANSI_HEX = {
    "black": "#000000",
    "red": "#D55E00",
    "green": "#009E73",
    "yellow": "#E69F00",
    "blue": "#0072B2",
    "magenta": "#CC79A7",
    "cyan": "#56B4E9",
    "white": "#BBBBBB",
    "bright_black": "#666666",
    "bright_red": "#F07B3F",
    "bright_green": "#5CC8A8",
    "bright_yellow": "#F0E442",
    "bright_blue": "#332288",
    "bright_magenta": "#EE3377",
    "bright_cyan": "#A6DCF5",
    "bright_white": "#EEEEEE",
    "default": "#666666",
}


def to_hex(color: str) -> str:
    """`#RRGGBB` (upper case) for a colour as a codebook writes it; ValueError if unknown."""
    name = color.strip().lower().replace(" ", "_")
    if name in ANSI_HEX:
        return ANSI_HEX[name]
    from rich.color import Color, ColorParseError

    try:
        t = Color.parse(name).get_truecolor()
    except ColorParseError:
        raise ValueError(f"unknown colour {color!r}") from None
    return f"#{t.red:02X}{t.green:02X}{t.blue:02X}"


def rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def luminance(hex_color: str) -> float:
    """Relative luminance (WCAG 2) of an sRGB colour, 0 (black) to 1 (white)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else float(((s + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(c) for c in rgb(hex_color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_on(hex_color: str) -> str:
    """Black or white, whichever contrasts more with `hex_color` as a background."""
    lum = luminance(hex_color)
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#FFFFFF"


def mix(hex_color: str, fraction: float, base: str = "#FFFFFF") -> str:
    """`fraction` of `hex_color` over `base` (0 gives the base, 1 the colour)."""
    f = min(1.0, max(0.0, fraction))
    out = (round(b + (c - b) * f) for c, b in zip(rgb(hex_color), rgb(base), strict=True))
    return "#" + "".join(f"{v:02X}" for v in out)


@dataclass(frozen=True)
class Palette:
    """Theme id -> `#RRGGBB`. Unknown ids (an annotation's theme no longer in the codebook)
    get a neutral grey rather than an error."""

    colors: dict[str, str] = field(default_factory=dict)
    fallback: str = "#777777"

    def hex(self, theme: str) -> str:
        return self.colors.get(theme, self.fallback)

    def rich_style(self, theme: str) -> str:
        """A rich style string for the theme's colour, e.g. for `Style.parse` or markup."""
        return self.hex(theme).lower()

    def tint(self, theme: str, fraction: float = 0.3) -> str:
        """A light shade of the theme's colour, for backgrounds under black text."""
        return mix(self.hex(theme), fraction)


def palette(codebook: Codebook | None, extra: Iterable[str] = ()) -> Palette:
    """The palette of a codebook's themes (and of `extra` theme ids it does not have, such as
    themes of annotations made with another codebook), in codebook order."""
    themes = list(codebook.themes) if codebook else []
    colors: dict[str, str] = {}
    for t in themes:
        if t.color:
            try:
                colors[t.id] = to_hex(t.color)
            except ValueError:
                pass  # the codebook check reports it; the report still needs a colour
    ids = [t.id for t in themes] + [x for x in extra if x not in {t.id for t in themes}]
    free = [c for c in DEFAULTS if c not in colors.values()] or list(DEFAULTS)
    n = 0
    for theme_id in dict.fromkeys(ids):
        if theme_id not in colors:
            colors[theme_id] = free[n % len(free)]
            n += 1
    return Palette(colors)
