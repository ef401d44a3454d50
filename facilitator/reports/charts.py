"""SVG charts for the program's numbers, readable without colour: every bar carries its number, series
differ by pattern (solid, hatched, dotted) as well as colour, reference lines are dashed and labelled,
and every chart has a title and a description (the page adds a table with the same numbers).

The same markup goes on the screen and into the PDF report, so presentation is in attributes, not CSS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..web.i18n import format_when

if TYPE_CHECKING:
    from .services import Dashboard

INK = "#1c2430"
MUTED = "#4f5b6b"
LINE = "#b8c2ce"
FILLS = {"solid": "#1f5f8b", "hatch": "#a4262c", "dots": "#22663a", "light": "#8fb3cc"}
FONT = 'font-family="DejaVu Sans, sans-serif"'


@dataclass(frozen=True)
class Series:
    """One set of bars: a name for the legend, one value per category, and a fill style."""

    name: str
    values: Sequence[float]
    style: str = "solid"  # solid | hatch | dots


@dataclass(frozen=True)
class HBar:
    """One horizontal bar (or range, for a reference band) with the text printed beside it."""

    label: str
    end: float
    text: str
    start: float = 0.0
    style: str = "solid"


def _defs(chart_id: str) -> str:
    """Fill patterns, so series differ by texture as well as colour."""
    return (
        f'<defs><pattern id="{chart_id}-hatch" patternUnits="userSpaceOnUse" width="7" height="7" '
        f'patternTransform="rotate(45)"><rect width="7" height="7" fill="#fff"/>'
        f'<rect width="3.5" height="7" fill="{FILLS["hatch"]}"/></pattern>'
        f'<pattern id="{chart_id}-dots" patternUnits="userSpaceOnUse" width="6" height="6">'
        f'<rect width="6" height="6" fill="#fff"/><circle cx="3" cy="3" r="1.9" fill="{FILLS["dots"]}"/></pattern></defs>'
    )


def _fill(chart_id: str, style: str) -> str:
    if style in ("hatch", "dots"):
        return f'url(#{chart_id}-{style})'
    return FILLS.get(style, FILLS["solid"])


def _open(chart_id: str, title: str, desc: str, width: float, height: float) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="rp-chart" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'{FONT}><title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
            + _defs(chart_id))


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11, weight: str = "normal",
          fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" font-weight="{weight}" '
            f'fill="{fill}">{escape(text)}</text>')


def _legend(chart_id: str, series: Sequence[Series], x: float, y: float) -> str:
    parts, at = [], x
    for s in series:
        parts.append(f'<rect x="{at:.1f}" y="{y - 10:.1f}" width="14" height="12" fill="{_fill(chart_id, s.style)}" '
                     f'stroke="{INK}" stroke-width="1"/>')
        parts.append(_text(at + 19, y, s.name, anchor="start", size=12))
        at += 30 + 7.2 * len(s.name)
    return "".join(parts)


def bar_chart(chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series], *,
              sublabels: Sequence[str] | None = None, value_format: str = "{:g}", x_title: str = "") -> Markup:
    """Vertical bars, grouped by category, each with its value on top; a legend when there are several series."""
    n = len(series)
    bar_w = 26 if n == 1 else 18
    group_w = n * bar_w + 14
    left, top, plot_h = 12, 34 if n > 1 else 18, 150
    width = max(left + len(labels) * group_w + 12, 260)
    height = top + plot_h + (40 if sublabels else 26) + (16 if x_title else 0)
    peak = max([v for s in series for v in s.values] + [1])
    base = top + plot_h
    out = [_open(chart_id, title, desc, width, height)]
    if n > 1:
        out.append(_legend(chart_id, series, left, 16))
    for i, label in enumerate(labels):
        x0 = left + i * group_w + 7
        for k, s in enumerate(series):
            value = s.values[i]
            h = value / peak * (plot_h - 16)
            x = x0 + k * bar_w
            out.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w - 2}" height="{h:.1f}" '
                       f'fill="{_fill(chart_id, s.style)}" stroke="{INK}" stroke-width="{1 if h else 0}"/>')
            out.append(_text(x + (bar_w - 2) / 2, base - h - 4, value_format.format(value), size=10))
        middle = x0 + (n * bar_w - 2) / 2
        out.append(_text(middle, base + 15, label, size=11))
        if sublabels and sublabels[i]:
            out.append(_text(middle, base + 29, sublabels[i], size=10, fill=MUTED))
    if x_title:
        out.append(_text(width / 2, height - 6, x_title, size=11, fill=MUTED))
    out.append(f'<line x1="{left}" x2="{width - 6}" y1="{base}" y2="{base}" stroke="{INK}" stroke-width="1.5"/>')
    out.append("</svg>")
    return Markup("".join(out))


def hbar_chart(chart_id: str, title: str, desc: str, bars: Sequence[HBar], *, maximum: float = 1.0,
               reference: tuple[float, str] | None = None, percent_axis: bool = False, width: int = 640) -> Markup:
    """Horizontal bars with their label on the left and their number on the right; an optional
    dashed, labelled reference line (a threshold) and a 0-100% scale under the bars."""
    row_h, top = 30, 22 if reference else 6
    label_width = max(90, min(300, 7 * max((len(b.label) for b in bars), default=0) + 16))
    plot_w = width - label_width - 110
    rows_end = top + len(bars) * row_h + 4
    height = rows_end + (22 if percent_axis else 4)
    scale = plot_w / (maximum or 1)
    out = [_open(chart_id, title, desc, width, height)]
    if percent_axis:
        for tick in (0, 0.25, 0.5, 0.75, 1.0):
            x = label_width + tick * scale
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{rows_end}" stroke="{LINE}" stroke-width="1"/>')
            out.append(_text(x, rows_end + 15, f"{tick:.0%}", size=10, fill=MUTED))
    for i, bar in enumerate(bars):
        y = top + i * row_h
        out.append(_text(label_width - 8, y + 19, bar.label, anchor="end", size=12))
        x1, x2 = label_width + bar.start * scale, label_width + bar.end * scale
        out.append(f'<rect x="{x1:.1f}" y="{y + 5}" width="{max(x2 - x1, 0):.1f}" height="{row_h - 10}" '
                   f'fill="{_fill(chart_id, bar.style)}" stroke="{INK}" stroke-width="{1 if x2 > x1 else 0}"/>')
        out.append(_text(x2 + 6, y + 19, bar.text, anchor="start", size=12, weight="bold"))
    out.append(f'<line x1="{label_width}" x2="{label_width}" y1="{top}" y2="{rows_end}" stroke="{INK}" stroke-width="1.5"/>')
    if reference is not None:
        value, words = reference
        x = label_width + value * scale
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{rows_end}" stroke="{INK}" '
                   f'stroke-width="1.5" stroke-dasharray="5 4"/>')
        out.append(_text(x, 12, words, size=11, weight="bold"))
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(chart_id: str, title: str, desc: str, points: Sequence[tuple[str, float | None]], *,
               label_every: int = 4, x_title: str = "") -> Markup:
    """A share (0..1) over steps: a line with a marker at every point, gridlines at 25% steps, and
    the value printed at every `label_every`-th point and at the last one."""
    left, top, plot_h, step = 44, 26, 170, 30
    width = left + max(len(points) - 1, 1) * step + 30
    height = top + plot_h + (44 if x_title else 28)
    base = top + plot_h
    out = [_open(chart_id, title, desc, width, height)]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = base - tick * plot_h
        out.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}" stroke-width="1"/>')
        out.append(_text(left - 6, y + 4, f"{tick:.0%}", anchor="end", size=10, fill=MUTED))
    known = [(i, v) for i, (_label, v) in enumerate(points) if v is not None]
    path = " ".join(f"{'M' if k == 0 else 'L'}{left + i * step:.1f},{base - v * plot_h:.1f}"
                    for k, (i, v) in enumerate(known))
    if path:
        out.append(f'<path d="{path}" fill="none" stroke="{FILLS["solid"]}" stroke-width="2.5"/>')
    last = known[-1][0] if known else -1
    for i, v in known:
        x, y = left + i * step, base - v * plot_h
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" stroke="{INK}" stroke-width="1.5"/>')
        if i % label_every == 0 or i == last:
            out.append(_text(x, y - 9, f"{v:.0%}", size=11, weight="bold"))
    for i, (label, _value) in enumerate(points):
        if i % 2 == 0 or i == len(points) - 1:
            out.append(_text(left + i * step, base + 16, label, size=10))
    if x_title:
        out.append(_text(left + (width - left) / 2, base + 36, x_title, size=11, fill=MUTED))
    out.append(f'<line x1="{left}" x2="{width - 10}" y1="{base}" y2="{base}" stroke="{INK}" stroke-width="1.5"/>')
    out.append("</svg>")
    return Markup("".join(out))


def dashboard_charts(d: Dashboard) -> dict[str, Markup]:
    """The dashboard's charts, each with a description that states its main figures in words (in the
    request's language; month names through Babel)."""
    charts: dict[str, Markup] = {}
    months = [f.month for f in d.flows]
    charts["flows"] = bar_chart(
        "rp-flows", _("Admissions and discharges per month"),
        _("%(admissions)s admissions and %(discharges)s discharges from %(start)s to %(end)s. Admissions are solid "
          "bars, discharges hatched bars; each bar shows its number. The table below lists every month.",
          admissions=d.admissions, discharges=d.outcomes.discharges, start=format_when(d.period.start, "year"),
          end=format_when(d.period.end, "year")),
        [format_when(m, "month_short") for m in months],
        [Series(_("Admissions"), [f.admissions for f in d.flows], "solid"),
         Series(_("Discharges"), [f.discharges for f in d.flows], "hatch")],
        sublabels=[m.strftime("%Y") if i == 0 or m.month == 1 else "" for i, m in enumerate(months)])
    c = d.census
    weeks = ", ".join(_("%(n)s in week %(week)s", n=n.value, week=n.label) for n in c.by_week if n.value)
    charts["weeks"] = bar_chart(
        "rp-weeks", _("Active participants by program week"),
        _("%(active)s participants were enrolled on %(day)s: %(weeks)s.", active=c.active,
          day=format_when(c.as_of, "year"), weeks=weeks),
        [n.label for n in c.by_week], [Series(_("Participants"), [n.value for n in c.by_week], "solid")],
        x_title=_("Program week (week 1 starts on the admission day)"))
    o = d.outcomes
    low, high = o.national
    program_bar = (HBar(_("This program"), o.completion_rate,
                        _("%(rate)s (%(completions)s of %(discharges)s)", rate=f"{o.completion_rate:.0%}",
                          completions=o.completions, discharges=o.discharges))
                   if o.completion_rate is not None else HBar(_("This program"), 0, _("no discharges")))
    range_words = _("%(low)s to %(high)s", low=f"{low:.0%}", high=f"{high:.0%}")
    against = {"below": _("%(rate)s of discharges were completions (%(completions)s of %(discharges)s), below the "
                          "national range of %(low)s to %(high)s."),
               "above": _("%(rate)s of discharges were completions (%(completions)s of %(discharges)s), above the "
                          "national range of %(low)s to %(high)s."),
               "within": _("%(rate)s of discharges were completions (%(completions)s of %(discharges)s), within the "
                           "national range of %(low)s to %(high)s.")}
    charts["completion"] = hbar_chart(
        "rp-completion", _("Completion rate against the national range for IOP"),
        (against[o.against_national] % {"rate": f"{o.completion_rate:.0%}", "completions": o.completions,
                                         "discharges": o.discharges, "low": f"{low:.0%}", "high": f"{high:.0%}"}
         if o.completion_rate is not None else _("No discharges in the period.")) + " "
        + _("The national range is the hatched bar."),
        [program_bar, HBar(_("National IOP"), high, range_words, start=low, style="hatch")],
        percent_axis=True)
    charts["reasons"] = hbar_chart(
        "rp-reasons", _("Discharges by reason"),
        _("%(n)s discharges: %(reasons)s.", n=o.discharges,
          reasons=", ".join(f"{str(r.label).lower()} {r.count}" for r in o.by_reason if r.count))
        if o.discharges else _("No discharges in the period."),
        [HBar(str(r.label), r.share, f"{r.count} ({r.share:.0%})", style="hatch" if r.reason == "completed" else "solid")
         for r in o.by_reason], maximum=max([r.share for r in o.by_reason] + [0.01]))
    marks = [p for p in d.retention if p.week in (4, 8, 12, 16) and p.share is not None]
    shares = ", ".join(_("%(share)s were still enrolled at week %(week)s", share=f"{p.share:.0%}", week=p.week)
                       for p in marks)
    charts["retention"] = line_chart(
        "rp-retention", _("Retention: share still enrolled by week since admission"),
        (_("Of the %(n)s participants admitted in the period, an estimated %(shares)s.", n=d.retention[0].followed,
           shares=shares)
         if marks else _("Nobody admitted in the period has reached week 4 yet.")),
        [(str(p.week), p.share) for p in d.retention], x_title=_("Weeks since admission"))
    rates = "; ".join(_("%(group)s: %(rate)s of %(recorded)s recorded", group=g.group, rate=f"{g.rate:.0%}",
                        recorded=g.recorded) for g in d.attendance if g.rate is not None)
    charts["attendance"] = hbar_chart(
        "rp-attendance", _("Attendance rate by group"),
        _("%(groups)s. The dashed line is the alert threshold of %(rate)s.", rate=f"{d.attendance_alert_rate:.0%}",
          groups=rates)
        if d.attendance else _("No attendance recorded in the period."),
        [HBar(g.group, g.rate or 0, f"{g.rate:.0%}" if g.rate is not None else _("none")) for g in d.attendance],
        reference=(d.attendance_alert_rate, _("alert under %(rate)s", rate=f"{d.attendance_alert_rate:.0%}")),
        percent_axis=True)
    return charts
