"""Control charts as SVG geometry: the page draws lines and dots, no chart library, no script."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.engines.evidence.control import Chart

WIDTH, HEIGHT, PAD = 320, 90, 6


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    signal: str
    label: str


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    line: str  # SVG points of the weekly values
    dots: list[Dot]
    centre: float
    upper: float
    lower: float


def picture(chart: Chart, labels: list[str]) -> Picture:
    values = [v for v in chart.values if v is not None]
    top = max([*values, chart.upper]) * 1.05 or 1.0
    n = max(len(chart.values) - 1, 1)

    def x(i: int) -> float:
        return round(PAD + i * (WIDTH - 2 * PAD) / n, 1)

    def y(v: float) -> float:
        return round(HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD), 1)

    dots = [
        Dot(x(i), y(v), chart.signal_at(i), f"{labels[i]}: {v:.1f} working days")
        for i, v in enumerate(chart.values) if v is not None
    ]
    return Picture(
        WIDTH, HEIGHT, " ".join(f"{d.x},{d.y}" for d in dots), dots, y(chart.centre), y(chart.upper), y(chart.lower)
    )


def band_rects(shares: list[float]) -> list[tuple[float, float]]:
    """(x, width) of each band in a 100-wide stacked bar."""
    out, x = [], 0.0
    for share in shares:
        out.append((round(x, 2), round(share * 100, 2)))
        x += share * 100
    return out
