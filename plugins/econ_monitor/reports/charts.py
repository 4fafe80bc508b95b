"""Charts for the reports, drawn with matplotlib's Agg renderer (no display, no pyplot state).

Colours match the warning mails (red #c0392b, yellow #b7950b, green #27ae60, grey for no data), and every
bar also carries a hatch pattern and a direct label, so a chart printed in black and white still reads.

Chinese labels need a font with Chinese glyphs. When fontconfig knows one (`fc-list :lang=zh`), charts
are labelled in Chinese; otherwise they use ASCII labels (indicator and chain codes, English words) and
the HTML tables next to them carry the Chinese names. Either way no glyph is ever missing.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image

log = logging.getLogger(__name__)

COLOURS = {"red": "#c0392b", "yellow": "#b7950b", "green": "#27ae60", "no_data": "#95a5a6"}
HATCHES = {"red": "xxx", "yellow": "///", "green": "", "no_data": "..."}
LEVEL_WORDS = {
    "zh": {"red": "红", "yellow": "黄", "green": "绿", "no_data": "无数据"},
    "en": {"red": "RED", "yellow": "YELLOW", "green": "GREEN", "no_data": "NO DATA"},
}
CATEGORY_EN = {
    "聚焦突破类": "Breakthrough",
    "重点实施类": "Key implementation",
    "加快布局类": "Accelerated layout",
    "合计": "Total",
}
DPI = 200  # print: a chart 6-9 inches wide on A4 stays sharp (the issue asks for >= 200 dpi)


@dataclass(frozen=True)
class ChartFont:
    family: str | None  # a font family with Chinese glyphs, or None: ASCII labels only

    @property
    def chinese(self) -> bool:
        return self.family is not None

    def words(self) -> dict[str, str]:
        return LEVEL_WORDS["zh" if self.chinese else "en"]

    def rc(self) -> dict:
        families = [self.family, "DejaVu Sans"] if self.family else ["DejaVu Sans"]
        return {"font.family": families, "axes.unicode_minus": True, "hatch.linewidth": 0.8}

    def pick(self, chinese: str, ascii_: str) -> str:
        return chinese if self.chinese else ascii_


@lru_cache(maxsize=1)
def chart_font() -> ChartFont:
    """The first font fontconfig lists for Chinese that matplotlib can load, else ASCII labels."""
    if not shutil.which("fc-list"):
        return ChartFont(None)
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ChartFont(None)
    from matplotlib import font_manager

    paths = [line.split(":")[0].strip() for line in listed.splitlines()]
    # The regular weight first: matplotlib takes a file's first face, and a Bold file makes every label bold.
    for path in sorted(paths, key=lambda path: ("regular" not in path.lower(), path)):
        if not path.lower().endswith((".ttf", ".otf", ".ttc")):
            continue
        try:
            font_manager.fontManager.addfont(path)
            family = font_manager.FontProperties(fname=path).get_name()
        except Exception:  # noqa: BLE001 - an unreadable font is just not used
            continue
        log.info("charts use %s (%s) for Chinese labels", family, path)
        return ChartFont(family)
    return ChartFont(None)


def _png(draw: Callable[[Figure, ChartFont], None], size: tuple[float, float]) -> bytes:
    """The chart drawn into Agg's RGBA buffer and written once, as a palette PNG: a chart has few colours,
    and a palette PNG is a third of the size of a true-colour one (mails carry several charts). Median cut
    keeps the level colours exact (a fast octree shifts them). No true-colour PNG written and read back,
    and zlib's default level instead of `optimize` (its level 9): a third less CPU per chart for ~10 %
    more bytes (benchmarks/charts.py)."""
    font = chart_font()
    with matplotlib.rc_context(font.rc()):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained", facecolor="white")
        draw(figure, font)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    return buffer.getvalue()


def _fmt(value: float) -> str:
    text = f"{value:,.1f}"
    return "0" if text in ("-0.0", "0.0") else text.removesuffix(".0")


def _legend(axes, font: ChartFont, levels=("red", "yellow", "green", "no_data"), **kwargs) -> None:
    words = font.words()
    handles = [
        Patch(facecolor=COLOURS[level], hatch=HATCHES[level], edgecolor="black", label=words[level]) for level in levels
    ]
    axes.legend(handles=handles, frameon=False, **kwargs)


def _bar_style(level: str) -> dict:
    return {"color": COLOURS[level], "hatch": HATCHES[level], "edgecolor": "black", "linewidth": 0.6}


def _value_label(axes, value: float, y: float, text: str, span: float, **style) -> None:
    """A bar's figure just beyond its end, on whichever side of zero the bar lies."""
    axes.text(
        value + (span * 0.01 if value >= 0 else -span * 0.01),
        y,
        text,
        va="center",
        ha="left" if value >= 0 else "right",
        fontsize=8,
        **style,
    )


def _around_zero(axes, labels: list[str], values: list[float], margin: float, xlabel: str) -> None:
    """Rows top to bottom on both sides of a zero line; the x axis leaves `margin` of the values' span on
    each side for the labels."""
    span = (max(max(values), 0) - min(min(values), 0)) or 1.0
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(min(min(values), 0) - span * margin, max(max(values), 0) + span * margin)
    axes.set_xlabel(xlabel, fontsize=8)
    axes.grid(axis="x", linestyle=":", linewidth=0.5)


def _completion_bars(
    axes,
    font: ChartFont,
    bars: list[tuple[float, str, str] | None],
    progress: float | None,
    limits: tuple[float, float, float],
) -> None:
    """One bar per row top to bottom: % of the year's target coloured by its level and labelled, or "no
    data" (None); time progress as a dashed line named in the room above the bars. `limits`: the x axis runs
    to at least this %, each bar leaves this much room for its label, and the y axis starts this far above
    the first bar."""
    floor, room, top = limits
    words = font.words()
    for y, bar in enumerate(bars):
        if bar is None:
            axes.barh(y, 1, **_bar_style("no_data"))
            axes.text(2, y, words["no_data"], va="center", fontsize=8, color="#555555")
            continue
        value, level, label = bar
        axes.barh(y, value, **_bar_style(level))
        axes.text(max(value, progress or 0) + 1.5, y, label, va="center", fontsize=8)
    if progress is not None:
        axes.axvline(progress, color="black", linestyle="--", linewidth=1)
        axes.text(
            progress,
            top + 0.4,
            font.pick(f"时序进度 {_fmt(progress)}%", f"time progress {_fmt(progress)}%"),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_xlim(0, max([floor] + [bar[0] + room for bar in bars if bar is not None]))
    axes.set_ylim(len(bars) - 0.5, top)
    axes.grid(axis="x", linestyle=":", linewidth=0.5)


def indicator_deviation_chart(board: list[dict]) -> bytes:
    """Deviation from target (pp) per indicator, catalogue order top to bottom; no data shown as such."""

    def draw(figure: Figure, font: ChartFont) -> None:
        axes = figure.add_subplot()
        words = font.words()
        labels = [font.pick(row["indicator_name"], row["indicator_code"]) for row in board]
        values = [float(row["deviation_pp"]) if row["deviation_pp"] is not None else None for row in board]
        known = [v for v in values if v is not None] or [0.0]
        span = max(max(known), 0) - min(min(known), 0) or 1.0
        for y, (row, value) in enumerate(zip(board, values, strict=False)):
            level = row["warning_level"] if value is not None else "no_data"
            if value is None:
                axes.barh(y, span * 0.02, left=0, **_bar_style("no_data"))
                axes.text(span * 0.03, y, words["no_data"], va="center", ha="left", fontsize=8, color="#555555")
                continue
            axes.barh(y, value, **_bar_style(level))
            _value_label(axes, value, y, f"{value:+.1f} {words[level]}", span)
        xlabel = font.pick(
            "偏差（百分点）：增速/占比为与目标之差，累计/存量为完成进度与时序进度之差",
            "deviation (pp): growth/level vs target; cumulative/stock vs time progress",
        )
        _around_zero(axes, labels, known, 0.25, xlabel)
        axes.set_title(font.pick("主要经济指标偏差", "Indicators: deviation from target"), fontsize=11)
        _legend(axes, font, loc="lower right", fontsize=8)

    return _png(draw, (8, 0.32 * len(board) + 1.4))


def chain_completion_chart(chains: list[dict]) -> bytes:
    """Year-to-date output as % of the year's target per chain, against time progress."""

    def draw(figure: Figure, font: ChartFont) -> None:
        axes = figure.add_subplot()
        words = font.words()
        labels = [font.pick(row["chain_name"], row["chain_code"]) for row in chains]
        progress = next((float(r["time_progress_pct"]) for r in chains if r["time_progress_pct"] is not None), None)
        bars = [
            None
            if row["completion_pct"] is None
            else (
                float(row["completion_pct"]),
                row["warning_level"],
                f"{_fmt(float(row['completion_pct']))}% ({float(row['deviation_pp']):+.1f}) {words[row['warning_level']]}",
            )
            for row in chains
        ]
        _completion_bars(axes, font, bars, progress, limits=(120.0, 35, -1.3))
        axes.set_yticks(range(len(chains)), labels, fontsize=8)
        axes.set_xlabel(
            font.pick("累计产值占年度目标（%）", "year-to-date output as % of the year's target"), fontsize=8
        )
        axes.set_title(
            font.pick("产业链完成进度与时序进度", "Industry chains: completion vs time progress"), fontsize=11
        )
        _legend(axes, font, levels=("red", "yellow", "green"), loc="lower right", fontsize=8)

    return _png(draw, (8, 0.32 * len(chains) + 1.6))


def project_targets_chart(targets: list[dict]) -> bytes:
    """New signings and new starts per 产业类别 and in total, % of the year's target vs time progress."""

    def draw(figure: Figure, font: ChartFont) -> None:
        words = font.words()
        panels = figure.subplots(1, 2, sharey=True)
        labels = [
            font.pick(row["industry_category"], CATEGORY_EN.get(row["industry_category"], f"category {i + 1}"))
            for i, row in enumerate(targets)
        ]
        progress = (
            float(targets[0]["time_progress_pct"]) if targets and targets[0]["time_progress_pct"] is not None else None
        )
        for axes, prefix, title in (
            (panels[0], "signed", font.pick("新签约", "New signings")),
            (panels[1], "started", font.pick("新开工", "New starts")),
        ):
            bars = [
                None
                if row[f"{prefix}_completion_pct"] is None
                else (
                    float(row[f"{prefix}_completion_pct"]),
                    row[f"{prefix}_warning_level"],
                    f"{row[f'{prefix}_count']}/{row[f'{prefix}_target']}\n{words[row[f'{prefix}_warning_level']]}",
                )
                for row in targets
            ]
            _completion_bars(axes, font, bars, progress, limits=(140.0, 40, -1.1))
            axes.set_title(title, fontsize=10)
            axes.set_xlabel(font.pick("完成全年目标（%）", "% of the year's target"), fontsize=8)
        panels[0].set_yticks(range(len(targets)), labels, fontsize=8)
        _legend(panels[1], font, levels=("red", "yellow", "green"), loc="lower right", fontsize=8)
        figure.suptitle(font.pick("招商引资项目完成进度", "Investment projects vs target"), fontsize=11)

    return _png(draw, (8, 0.45 * len(targets) + 1.8))


def chain_gap_chart(section: dict) -> bytes:
    """Who explains a chain's change (万元, against last year's same period): the enterprises that fell
    most, the other declining and the growing key enterprises, and their total (section: gaps.chain_gap_section)."""

    def draw(figure: Figure, font: ChartFont) -> None:
        axes = figure.add_subplot()
        bars = [
            (font.pick(row["enterprise_name"], row["credit_code"]), float(row["change_wan"]), "red")
            for row in section["drags"]
        ]
        other, growers = section["other_decliners"], section["growers"]
        if other["count"]:
            bars.append(
                (
                    font.pick(f"其他下降企业 {other['count']} 家", f"other declining ({other['count']})"),
                    float(other["change_wan"]),
                    "yellow",
                )
            )
        if growers["count"]:
            bars.append(
                (
                    font.pick(f"增长企业 {growers['count']} 家", f"growing ({growers['count']})"),
                    float(growers["change_wan"]),
                    "green",
                )
            )
        total = float(section["total_change_wan"] or 0)
        values = [value for _, value, _ in bars] + [total]
        span = (max(max(values), 0) - min(min(values), 0)) or 1.0
        for y, (_label, value, level) in enumerate(bars):
            axes.barh(y, value, **_bar_style(level))
            _value_label(axes, value, y, f"{value:+,.0f}", span)
        axes.barh(len(bars), total, color="#2c3e50", edgecolor="black", linewidth=0.6)
        _value_label(axes, total, len(bars), f"{total:+,.0f}", span, fontweight="bold")
        labels = [label for label, _, _ in bars] + [font.pick("重点企业合计", "key enterprises, total")]
        xlabel = font.pick(
            "累计产值较上年同期增减（万元，上年同期由官方累计增速推算）",
            "YTD output change vs last year (10k CNY, base from the official growth rate)",
        )
        _around_zero(axes, labels, values, 0.3, xlabel)
        axes.set_title(
            font.pick(
                f"{section['chain_name']}：重点企业增减（偏差 {float(section['deviation_pp']):+.1f} 个百分点，"
                f"{font.words()[section['warning_level']]}）",
                f"{section['chain_code']}: key enterprises' change ({float(section['deviation_pp']):+.1f} pp, "
                f"{font.words()[section['warning_level']]})",
            ),
            fontsize=10,
        )

    return _png(draw, (8, 0.34 * (len(section["drags"]) + 3) + 1.2))


def warnings_per_leader_chart(counts: list[dict]) -> bytes:
    """Open (and claimed) warnings per leader, stacked by level. counts: leader_code, leader_title, red, yellow."""

    def draw(figure: Figure, font: ChartFont) -> None:
        axes = figure.add_subplot()
        labels = [font.pick(f"{row['leader_title']}", row["leader_code"]) for row in counts]
        words = font.words()
        for y, row in enumerate(counts):
            left = 0
            for level in ("red", "yellow"):
                value = row[level]
                if value:
                    axes.barh(y, value, left=left, **_bar_style(level))
                    axes.text(
                        left + value / 2,
                        y,
                        str(value),
                        ha="center",
                        va="center",
                        fontsize=8,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
                    )
                left += value
            axes.text(
                left + 0.3,
                y,
                f"{words['red']} {row['red']} / {words['yellow']} {row['yellow']}",
                va="center",
                fontsize=8,
            )
        axes.set_yticks(range(len(counts)), labels, fontsize=9)
        axes.invert_yaxis()
        widest = max([r["red"] + r["yellow"] for r in counts] + [1])
        axes.set_xlim(0, widest * 1.35 + 1)
        axes.set_xlabel(font.pick("在办预警数（待认领与已认领）", "open and claimed warnings"), fontsize=8)
        axes.set_title(font.pick("各责任领导在办预警", "Open warnings per leader"), fontsize=11)
        axes.grid(axis="x", linestyle=":", linewidth=0.5)
        _legend(axes, font, levels=("red", "yellow"), loc="lower right", fontsize=8)

    return _png(draw, (8, 0.4 * max(len(counts), 1) + 1.4))


def investment_added_chart(rows: list[dict]) -> bytes:
    """Investment added this week per 产业类别 (万元). rows: industry_category, added_wan, projects."""

    def draw(figure: Figure, font: ChartFont) -> None:
        axes = figure.add_subplot()
        labels = [
            font.pick(r["industry_category"], CATEGORY_EN.get(r["industry_category"], f"category {i + 1}"))
            for i, r in enumerate(rows)
        ]
        values = [float(r["added_wan"] or 0) for r in rows]
        bars = axes.barh(range(len(rows)), values, color="#2c3e50", edgecolor="black", linewidth=0.6)
        for bar, row, value in zip(bars, rows, values, strict=False):
            axes.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                font.pick(
                    f" {value:,.0f} 万元（{row['projects']} 个项目）",
                    f" {value:,.0f} (10k CNY, {row['projects']} projects)",
                ),
                va="center",
                fontsize=8,
            )
        axes.set_yticks(range(len(rows)), labels, fontsize=9)
        axes.invert_yaxis()
        axes.set_xlim(0, (max(values + [1.0])) * 1.6)
        axes.set_xlabel(font.pick("本周新增完成投资（万元）", "investment added this week (10k CNY)"), fontsize=8)
        axes.set_title(font.pick("本周新增投资（按产业类别）", "Investment added this week, by category"), fontsize=11)
        axes.grid(axis="x", linestyle=":", linewidth=0.5)

    return _png(draw, (8, 0.45 * max(len(rows), 1) + 1.4))
