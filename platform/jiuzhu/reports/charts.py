"""Small server-rendered SVG charts: no script, no CDN, they print and they work offline."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#718096")


def bar_chart(labels: list[str], series: dict[str, list[int]], *, height: int = 220, title: str = "") -> Markup:
    """Grouped vertical bars, one group per label, one bar per series; scales to its container."""
    width = max(320, 48 * len(labels) + 60)
    peak = max([max(v) if v else 0 for v in series.values()] + [1])
    top = max(4, -(-peak // 4) * 4)  # whole-number ticks: a multiple of 4, at least 4
    plot_h, left, bottom = height - 50, 36, 30
    group_w = (width - left - 10) / max(1, len(labels))
    bar_w = max(2.0, (group_w - 6) / max(1, len(series)))
    extra = 12 if any("\n" in label for label in labels) else 0  # room for two-line labels
    full = height + extra
    parts = [f'<svg viewBox="0 0 {width} {full}" width="100%" role="img" aria-label="{escape(title)}" '
             'xmlns="http://www.w3.org/2000/svg" style="max-width:100%;font-size:10px">']
    for i in range(5):
        y = 10 + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
                     f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#4a5568">{top * i // 4}</text>')
    for gi, label in enumerate(labels):
        x0 = left + gi * group_w + 3
        for si, (name, values) in enumerate(series.items()):
            v = values[gi] if gi < len(values) else 0
            h = plot_h * v / top
            parts.append(f'<rect x="{x0 + si * bar_w:.1f}" y="{10 + plot_h - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)} {escape(label)}：{v}'
                         '</title></rect>')
        lines = label.split("\n")  # a second line (e.g. the year under a month) in smaller type
        x = x0 + group_w / 2 - 3
        tail = "".join(f'<tspan x="{x:.1f}" dy="11" font-size="9">{escape(extra)}</tspan>' for extra in lines[1:])
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 12}" text-anchor="middle" '
                     f'fill="#4a5568">{escape(lines[0])}{tail}</text>')
    lx = left
    for si, name in enumerate(series):
        parts.append(f'<rect x="{lx}" y="{full - 12}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
                     f'<text x="{lx + 14}" y="{full - 3}" fill="#2d3748">{escape(name)}</text>')
        lx += 14 + 12 * len(name) + 10
    parts.append("</svg>")
    return Markup("".join(parts))
