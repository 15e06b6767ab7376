"""Durations as people read them: "1 h 20 min", "35 min", "23 h". Figures on pages and in
messages are rounded to the minute (under ten hours) or to the hour, never "22.9958 h"."""

from __future__ import annotations


def duration_text(seconds: float) -> str:
    """``5400`` → ``"1 h 30 min"``; ``2100`` → ``"35 min"``; ``82785`` → ``"23 h"``."""
    minutes = round(max(0.0, float(seconds)) / 60)
    if minutes == 0 and seconds > 0:
        return "under 1 min"
    hours, rest = divmod(minutes, 60)
    if hours >= 10:
        return f"{round(minutes / 60):,} h"
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def hours_text(hours: float) -> str:
    return duration_text(hours * 3600)
