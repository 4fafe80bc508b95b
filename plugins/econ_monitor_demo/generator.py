"""The figures, month by month, and the files that carry them: `generate` writes the landing directories;
`Demo` holds the seeds' reference data and the drawn universe and writes each file type."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from econ_monitor.reference import seed as seed_rows
from econ_monitor_demo.files import (
    DEPARTMENT_HEADER,
    DEPARTMENT_STYLES,
    ENTERPRISE_HEADER,
    ISSUE_HEADER,
    LEDGER_HEADER,
    save_workbook,
    titled_sheet,
    write_csv,
)
from econ_monitor_demo.universe import (
    Enterprise,
    Issue,
    Project,
    draw_enterprises,
    draw_issues,
    draw_projects,
    enterprise_growth,
    fridays_of,
    stream,
)

# Projects are signed over 2024–2026; the seeds give the targets of 2025, from which the figures (and the
# target files) of the other years are scaled.
FIRST_YEAR, LAST_YEAR = 2024, 2026
TARGET_YEAR = 2025
CUMULATIVE_TREND, CHAIN_TREND = 1.06, 1.08  # yearly growth of cumulative indicators' and chains' scale
ADJUSTMENT_PP = 2.0  # 年中调整: how far a red growth indicator's target is lowered (red by 2.6–3.2 pp → yellow)

# Share of a year's total in each month (Spring Festival in Jan–Feb, year-end push in December).
MONTH_WEIGHTS = (7.2, 6.0, 8.3, 8.1, 8.4, 8.6, 8.0, 8.2, 8.5, 8.6, 9.0, 11.1)
YEAR_SHARE = tuple(total / 100 for total in accumulate(MONTH_WEIGHTS))

# Distance from target (pp) shared out among the growth indicators of each frequency every year:
# two red (< −2), two yellow and two green monthly ones; noise of ±0.4 pp never changes the level.
GROWTH_OFFSETS = {"monthly": (-3.2, -2.6, -1.2, -0.5, 0.8, 1.6), "quarterly": (-2.7, -0.6, 0.7)}
# Level indicators (gap in pp): one of these a year, red, yellow or green for 第三产业占比; 研发投入强度
# is a small percentage, which the level rule only ever finds yellow or green.
# One indicator's 2025 written as a warning's whole life, month by month (offset from target, pp; other
# months keep its drawn offset): yellow, red, better, worse again, recovered, then red in a new episode.
# tests/test_replay.py follows it through the alert history; being no drawn red, the 年中调整 leaves it be.
STORY = {("industrial_va", 2025): {2: -1.0, 3: -3.0, 4: -1.0, 5: -3.0, 6: 1.0, 7: 1.0, 8: -3.0, 9: -3.0}}
LEVEL_OFFSETS = {"tertiary_share": (-2.6, -0.9, 0.4), "rd_intensity": (-0.3, -0.1, 0.1)}
STOCK_PACES = (0.8, 0.92, 1.04)  # 规上工业企业数: share of the year's net additions on time progress
# Year-to-date total against target × seasonal share: below ~0.9 ends the year red, above 1.05 green;
# early in the year (Spring Festival) only the fastest are ahead of time progress.
CUMULATIVE_PACES = (0.72, 0.86, 0.9, 0.95, 1.0, 1.08, 1.15, 1.2)
CHAIN_PACES = (0.78, 0.83, 0.87, 0.9, 0.93, 0.95, 0.97, 1.0, 1.04, 1.08, 1.12, 1.16, 1.2, 1.25, 1.3)

# What the seeds do not say: each absolute 统计局 indicator's 2023 total (sample scale), and sub-items
# (share of the parent, growth relative to it).
BASE_2023 = {
    "gdp": 1480.0,
    "agri_output": 136.0,
    "hightech_output": 1000.0,
    "public_budget_revenue": 131.0,
    "retail_sales": 330.0,
    "foreign_trade": 780.0,
    "disposable_income": 49800.0,
}
SUB_ITEMS = {
    "retail_sales": (("限额以上单位消费品零售额", 0.45, 0.9),),
    "foreign_trade": (("出口", 0.655, 2.2), ("进口", 0.345, -3.9)),
}
MISSING = "——"


def generate(
    start: tuple[int, int],
    end: tuple[int, int],
    out: Path,
    seed: int = 2025,
    adjust_targets: tuple[int, int] | None = None,
    omit_targets: tuple[int, ...] = (),
) -> list[Path]:
    """Write every month's delivery from `start` to `end` (inclusive) below `out`; return the files written.

    Each January in the range also gets its year's 年度目标任务表, unless the year is in `omit_targets`;
    `adjust_targets` (year, month) adds a re-delivered, adjusted file for that year to that month."""
    if not (FIRST_YEAR, 1) <= start <= end <= (LAST_YEAR, 12):
        raise ValueError(f"months must run forwards within {FIRST_YEAR}-01 … {LAST_YEAR}-12: {start} → {end}")
    if adjust_targets and not start <= adjust_targets <= end:
        raise ValueError(f"the target adjustment {adjust_targets} lies outside {start} → {end}")
    demo = Demo.create(seed)
    written: list[Path] = []
    year, month = start
    while (year, month) <= end:
        landing = Path(out) / f"{year}-{month:02d}"
        written += demo.write_month(year, month, landing)
        if month == 1 and year not in omit_targets:
            written.append(demo.write_target_file(year, landing))
        if adjust_targets == (year, month):
            written.append(demo.write_target_file(year, landing, adjusted_in=month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return written


def _share_out(rng: random.Random, codes: list[str], values: tuple[float, ...]) -> dict[str, float]:
    """Give each code one of `values`, shuffled, cycling if there are more codes than values."""
    shuffled = list(values)
    rng.shuffle(shuffled)
    return {code: shuffled[index % len(shuffled)] for index, code in enumerate(codes)}


def _after_month(year: int, month: int, day: int) -> dt.datetime:
    """When a monthly report for (year, month) is delivered: early in the following month."""
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.datetime(year, month, day, 10, 0)


def _one(value: float) -> float:
    return round(value, 1)


@dataclass
class Demo:
    """The seeds' reference data and the drawn universe (projects, issues, enterprises), from which each
    file type is written by its own method; figures are recomputed from the seed, never carried over."""

    seed: int
    indicators: dict[str, dict[str, str]]
    targets: dict[str, dict[str, str]]
    chains: list[dict[str, str]]  # chains with an output target: 工信局's report
    departments: dict[str, str]
    projects: list[Project]
    issues: list[Issue]
    enterprises: list[Enterprise]

    @classmethod
    def create(cls, seed: int) -> Demo:
        targets = {
            row["indicator_code"]: row
            for row in seed_rows("targets")
            if row["is_assessment_target"] == "true" and int(row["year"]) == TARGET_YEAR
        }
        all_chains = seed_rows("industry_chains")
        chain_targets = {
            row["chain_code"]: row["output_target"]
            for row in seed_rows("chain_targets")
            if int(row["year"]) == TARGET_YEAR
        }
        # Vice mayors 包挂 projects and enterprises; the mayor (who escalates to no one) does not.
        leaders = tuple(row["title"] for row in seed_rows("leaders") if row["role"] == "leader" and row["escalates_to"])
        signing_targets = {
            row["industry_category"]: int(row["signed_target"])
            for row in seed_rows("project_targets")
            if int(row["year"]) == TARGET_YEAR
        }
        projects = draw_projects(seed, all_chains, signing_targets, leaders)
        chains = [
            {**row, "output_target": chain_targets[row["chain_code"]]}
            for row in all_chains
            if row["chain_code"] in chain_targets
        ]
        return cls(
            seed=seed,
            indicators={row["indicator_code"]: row for row in seed_rows("indicators")},
            targets=targets,
            chains=chains,
            departments={row["department_code"]: row["department_name"] for row in seed_rows("departments")},
            projects=projects,
            issues=[issue for year in range(FIRST_YEAR, LAST_YEAR + 1) for issue in draw_issues(seed, projects, year)],
            enterprises=draw_enterprises(seed, chains, leaders),
        )

    def write_month(self, year: int, month: int, landing: Path) -> list[Path]:
        """One month's landing directory: the monthly reports for the month and every Friday's ledgers."""
        written = [self.write_department_report(department, year, month, landing) for department in DEPARTMENT_STYLES]
        if month > 1:
            written += [
                self.write_main_report(year, month, landing),
                self.write_enterprise_report(year, month, landing),
                self.write_chain_report(year, month, landing),
            ]
        fridays = fridays_of(year, month)
        written += [self.write_project_ledger(friday, landing) for friday in fridays]
        written.append(self.write_issue_ledger(fridays[-1], landing))
        return written

    # -- indicators ----------------------------------------------------------------------------------

    def target(self, code: str) -> float:
        return float(self.targets[code]["target_value"])

    def growth_offsets(self, year: int) -> dict[str, float]:
        offsets = {}
        for frequency, values in GROWTH_OFFSETS.items():
            codes = [
                code
                for code, row in self.indicators.items()
                if row["target_type"] == "growth" and row["frequency"] == frequency and code in self.targets
            ]
            offsets.update(_share_out(stream(self.seed, "growth-offsets", year, frequency), codes, values))
        return offsets

    def ytd_growth(self, code: str, year: int, month: int) -> float:
        """Official YTD growth (%): the target, this year's offset, and month-to-month noise."""
        noise = stream(self.seed, "growth", code, year, month).uniform(-0.4, 0.4)
        offset = STORY.get((code, year), {}).get(month, self.growth_offsets(year)[code])
        return _one(self.target(code) + offset + noise)

    def ytd_value(self, code: str, year: int, month: int) -> float:
        """Year-to-date total: the 2023 total's seasonal share, grown by each year's official growth."""
        value = BASE_2023[code] * YEAR_SHARE[month - 1]
        for past in range(FIRST_YEAR, year + 1):
            value *= 1 + self.ytd_growth(code, past, month) / 100
        return value

    def main_report_rows(self, year: int, month: int) -> list[list[object]]:
        """One row per 统计局 indicator in the seed's order, shaped by its kind: growth-only, stock, level,
        or absolute; quarterly ones only at quarter ends; `#` sub-items under their parent."""
        rows = []
        quarter_end = month % 3 == 0
        for code, row in self.indicators.items():
            if row["source_department"] != "tjj" or row["frequency"] not in ("monthly", "quarterly"):
                continue
            cells = [row["indicator_name"], row["unit"], MISSING, MISSING, MISSING, MISSING]
            if row["frequency"] == "quarterly" and not quarter_end:
                rows.append(cells)
                continue
            if row["target_type"] == "stock":
                cells[2] = self.stock_value(code, year, month)
            elif row["target_type"] == "level":
                cells[4] = self.level_value(code, year, month)
            elif row["unit"] == "%":
                growth = self.ytd_growth(code, year, month)
                cells[3] = _one(growth + stream(self.seed, "month-growth", code, year, month).uniform(-1.5, 1.5))
                cells[5] = growth
            else:
                cells[4:6] = [self.rounded(code, self.ytd_value(code, year, month)), self.ytd_growth(code, year, month)]
                if row["frequency"] == "monthly":
                    this_month = self.ytd_value(code, year, month) - self.ytd_value(code, year, month - 1)
                    last_year = self.ytd_value(code, year - 1, month) - self.ytd_value(code, year - 1, month - 1)
                    cells[2:4] = [self.rounded(code, this_month), _one((this_month / last_year - 1) * 100)]
            rows.append(cells)
            for name, share, extra_growth in SUB_ITEMS.get(code, ()):
                rows.append(
                    [f"#{name}", row["unit"], MISSING, MISSING, _one(cells[4] * share), _one(cells[5] + extra_growth)]
                )
        return rows

    def rounded(self, code: str, value: float) -> float | int:
        return round(value) if self.indicators[code]["unit"] == "元" else _one(value)

    def stock_value(self, code: str, year: int, month: int) -> int:
        """A stock (规上工业企业数) climbs from the year's baseline towards the target at this year's pace."""
        target, baseline = self.target(code), float(self.targets[code]["baseline_value"])
        start = baseline + (year - TARGET_YEAR) * (target - baseline)
        pace = stream(self.seed, "stock", code, year).choice(STOCK_PACES)
        return round(start + (target - baseline) * month / 12 * pace)

    def level_value(self, code: str, year: int, month: int) -> float:
        offset = stream(self.seed, "level", code, year).choice(LEVEL_OFFSETS[code])
        return _one(self.target(code) + offset + stream(self.seed, "level", code, year, month).uniform(-0.05, 0.05))

    def cumulative_pace(self, code: str, year: int, month: int) -> float:
        """How far a department's YTD total is ahead of (>1) or behind (<1) the target's seasonal share."""
        codes = [
            c
            for c, row in self.indicators.items()
            if row["target_type"] == "cumulative" and row["source_department"] in DEPARTMENT_STYLES
        ]
        pace = _share_out(stream(self.seed, "cumulative-paces", year), codes, CUMULATIVE_PACES)[code]
        return pace * (1 + stream(self.seed, "cumulative", code, year, month).uniform(-0.02, 0.02))

    def cumulative_ytd(self, code: str, year: int, month: int) -> float:
        """A department's YTD total: the annual target (growing 6% a year) × pace × the seasonal share."""
        if month == 0:
            return 0.0
        annual = self.target(code) * CUMULATIVE_TREND ** (year - TARGET_YEAR)
        return annual * self.cumulative_pace(code, year, month) * YEAR_SHARE[month - 1]

    def department_rows(self, department: str, year: int, month: int) -> list[list[object]]:
        """The department's indicators from the seed, cumulative ones first, annual ones last (given in
        December only, '—' with a remark otherwise)."""
        style = DEPARTMENT_STYLES[department]
        period = style.periods[month % len(style.periods)].format(y=year, m=month)
        codes = sorted(
            (code for code, row in self.indicators.items() if row["source_department"] == department),
            key=lambda code: self.indicators[code]["frequency"] == "annual",
        )
        rows = []
        for code in codes:
            row = self.indicators[code]
            values: list[object] = ["—", "—", "—"]
            remark = ""
            if row["frequency"] == "annual":
                remark = "年度指标" if month == 12 else "年度指标，年终测算"
                if month == 12:
                    values[1] = self.level_value(code, year, month)
            else:
                ytd = self.cumulative_ytd(code, year, month)
                if row["unit"] in ("列", "人", "个", "家"):
                    shown, before = round(ytd), round(self.cumulative_ytd(code, year, month - 1))
                    values[:2] = [shown - before, shown]
                else:
                    shown, before = _one(ytd), _one(self.cumulative_ytd(code, year, month - 1))
                    values[:2] = [_one(shown - before), shown]
                if style.reports_growth:  # against last year's trend: a year behind its pace shows a decline
                    values[2] = _one((1.06 * self.cumulative_pace(code, year, month) - 1) * 100)
                if style.grouped_numbers:
                    values[:2] = [f"{value:,}" for value in values[:2]]
            rows.append(
                [
                    self.departments[department],
                    period,
                    row["indicator_name"],
                    row["unit"],
                    *values,
                    "综合科",
                    "0532-8xxxxxxx",
                    remark,
                ]
            )
        return rows

    # -- chains --------------------------------------------------------------------------------------

    def chain_pace(self, chain: dict[str, str], year: int, month: int) -> float:
        codes = [row["chain_code"] for row in self.chains]
        pace = _share_out(stream(self.seed, "chain-paces", year), codes, CHAIN_PACES)[chain["chain_code"]]
        return pace * (1 + stream(self.seed, "chain", chain["chain_code"], year, month).uniform(-0.015, 0.015))

    def chain_target(self, chain: dict[str, str], year: int) -> float:
        """A chain's output target (亿元): 2025's, growing 8% a year."""
        return float(chain["output_target"]) * CHAIN_TREND ** (year - TARGET_YEAR)

    def chain_ytd(self, chain: dict[str, str], year: int, month: int) -> float:
        """A chain's YTD output: its target × this year's pace × the seasonal share."""
        scale = self.chain_target(chain, year)
        return scale * self.chain_pace(chain, year, month) * YEAR_SHARE[month - 1]

    # -- writers, one per file type -------------------------------------------------------------------

    def write_main_report(self, year: int, month: int, landing: Path) -> Path:
        """统计局's 主要经济指标月报: two title rows, a two-row header under merged cells, two footnotes."""
        period = f"{year}年1-{month}月"
        workbook, sheet = titled_sheet([["胶州市主要经济指标"], [f"（{period}）"]], 6)
        sheet.append(["指标名称", "计量单位", f"{month}月", None, f"1-{month}月", None])
        sheet.append([None, None, "绝对值", "同比增长(%)", "绝对值", "同比增长(%)"])
        for cell_range in ("A3:A4", "B3:B4", "C3:D3", "E3:F3"):
            sheet.merge_cells(cell_range)
        for row in self.main_report_rows(year, month):
            sheet.append(row)
        sheet.append(["注：1.地区生产总值、农林牧渔业总产值、第三产业增加值占比、居民人均可支配收入为季度数据。"])
        sheet.append(["2.“——”表示无数据；增速按可比价格计算。"])
        path = landing / "tjj" / f"胶州市主要经济指标_{period}.xlsx"
        return save_workbook(workbook, path, self.departments["tjj"], _after_month(year, month, 12))

    def write_department_report(self, department: str, year: int, month: int, landing: Path) -> Path:
        """部门指标报送表 as each department saves it: its encoding, its period spelling, its quirks."""
        style = DEPARTMENT_STYLES[department]
        header = [f" {name} " for name in DEPARTMENT_HEADER] if style.padded_header else list(DEPARTMENT_HEADER)
        path = landing / department / f"{self.departments[department]}_指标报送_{year}{month:02d}.csv"
        return write_csv(
            path, [header, *self.department_rows(department, year, month)], style.encoding, _after_month(year, month, 5)
        )

    def write_chain_report(self, year: int, month: int, landing: Path) -> Path:
        """工信局's 产业链运行监测表: one title row, chains by 产业类别 with a 小计 each, 合计, 填报单位."""
        period = f"{year}年1-{month}月"
        workbook, sheet = titled_sheet([[f"{period}重点产业链运行监测表"]], 8)
        sheet.append(
            [
                "序号",
                "产业类别",
                "产业链",
                "链主企业",
                "规上企业数（家）",
                "本月产值（亿元）",
                f"1-{month}月累计产值（亿元）",
                "同比增长（%）",
            ]
        )
        total, number = 0.0, 0
        for category in dict.fromkeys(row["industry_category"] for row in self.chains):
            subtotal = 0.0
            for chain in (row for row in self.chains if row["industry_category"] == category):
                number += 1
                ytd = round(self.chain_ytd(chain, year, month), 2)
                this_month = round(ytd - round(self.chain_ytd(chain, year, month - 1), 2), 2)
                growth = _one((1.08 * self.chain_pace(chain, year, month) - 1) * 100)  # against last year's trend
                firms = stream(self.seed, "chain-firms", chain["chain_code"]).randint(6, 60) + (year - FIRST_YEAR) * 2
                sheet.append([number, category, chain["chain_name"], None, firms, this_month, ytd, growth])
                subtotal += ytd
            sheet.append([None, f"{category}小计", None, None, None, None, round(subtotal, 2), None])
            total += subtotal
        sheet.append([None, "合计", None, None, None, None, round(total, 2), None])
        sheet.append([f"填报单位：市{self.departments['gxj']}"])
        path = landing / "gxj" / f"{period}产业链运行监测表.xlsx"
        return save_workbook(workbook, path, self.departments["gxj"], _after_month(year, month, 10))

    def write_enterprise_report(self, year: int, month: int, landing: Path) -> Path:
        """统计局's 重点企业产值月报: ~1,000 rows, GBK, as Excel saves it; YTD growth is the official rate."""
        records: list[list[object]] = [list(ENTERPRISE_HEADER)]
        for index, firm in enumerate(self.enterprises):
            ytd, before = firm.output_2023_wan * YEAR_SHARE[month - 1], firm.output_2023_wan * YEAR_SHARE[month - 2]
            for past in range(FIRST_YEAR, year + 1):
                growth = enterprise_growth(self.seed, index, past)
                ytd *= 1 + growth[month - 1] / 100
                before *= 1 + growth[month - 2] / 100
            ytd, before = _one(ytd), _one(before)
            records.append(
                [
                    firm.credit_code,
                    firm.name,
                    firm.chain,
                    firm.town,
                    _one(ytd - before),
                    ytd,
                    _one(growth[month - 1]),
                    firm.leader,
                ]
            )
        path = landing / "tjj" / f"重点企业产值月报_{year}{month:02d}.csv"
        return write_csv(path, records, "gbk", _after_month(year, month, 12))

    def write_project_ledger(self, as_of: dt.date, landing: Path) -> Path:
        """发改局's weekly 重点项目调度台账: a full snapshot of every project signed or in talks."""
        title = f"胶州市重点项目调度台账（截至{as_of.year}年{as_of.month}月{as_of.day}日）"
        workbook, sheet = titled_sheet([[title]], len(LEDGER_HEADER))
        sheet.append(list(LEDGER_HEADER))
        problems = {
            issue.project.code: issue.kind[1]  # the oldest open issue of each project
            for issue in reversed(self.issues)
            if issue.raised <= as_of < issue.closed
        }
        total = ytd_total = 0.0
        listed = [project for project in self.projects if project.talks_from <= as_of]
        for number, project in enumerate(listed, start=1):
            row = self.ledger_row(project, as_of, problems.get(project.code))
            sheet.append([number, *row])
            total += project.total_wan
            ytd_total += row[7]
        sheet.append([None, "合计", None, None, None, None, total, None, round(ytd_total, 2), *[None] * 12])
        path = landing / "fgj" / f"重点项目调度台账_{as_of.isoformat()}.xlsx"
        return save_workbook(workbook, path, self.departments["fgj"], dt.datetime.combine(as_of, dt.time(17)))

    def ledger_row(self, project: Project, as_of: dt.date, problem: str | None) -> list[object]:
        """A project as the ledger of `as_of` shows it; during a stall, as it stood when the stall began."""
        day = next((first for first, last in project.stalls if first <= as_of <= last), as_of)
        stage = project.stage(day)
        signed = stage != "在谈"
        pace = self.project_pace(project, day.year)

        def shown(date: dt.date, known: bool) -> str | None:
            return date.isoformat() if known else None

        return [
            project.code,
            project.name,
            project.library,
            project.category,
            project.chain,
            project.total_wan,
            project.annual_plan(day.year) if signed else 0,
            project.ytd_investment(day, pace),
            shown(project.signed, signed),
            shown(project.planned_start, signed),
            shown(project.actual_start, stage in ("已开工", "已投产")),
            shown(project.planned_operation, signed),
            shown(project.actual_operation, stage == "已投产"),
            stage,
            project.progress(day),
            project.leader,
            project.unit,
            project.town,
            problem,
            day.isoformat(),
        ]

    def project_pace(self, project: Project, year: int) -> float:
        """Investment pace against plan in a year: most on or ahead of plan, some behind, a few far behind."""
        rng = stream(self.seed, "pace", project.code, year)
        kind = rng.random()
        if kind < 0.1:
            return rng.uniform(0.35, 0.58)
        return rng.uniform(0.62, 0.79) if kind < 0.25 else rng.uniform(0.9, 1.25)

    def write_issue_ledger(self, as_of: dt.date, landing: Path) -> Path:
        """发改局's 项目问题台账 of the month's last Friday: every issue raised so far, until the end of the
        year it is closed in (so an issue carried into a new year is seen 已销号 before it goes)."""
        workbook, sheet = titled_sheet([[f"重点项目问题台账（截至{as_of.isoformat()}）"]], len(ISSUE_HEADER))
        sheet.append(list(ISSUE_HEADER))
        listed = [issue for issue in self.issues if issue.raised <= as_of and as_of.year <= issue.closed.year]
        for number, issue in enumerate(listed, start=1):
            closed = issue.closed <= as_of
            issue_type, description, unit = issue.kind
            sheet.append(
                [
                    number,
                    issue.code,
                    issue.project.code,
                    issue.project.name,
                    description,
                    issue_type,
                    unit,
                    "分管负责人",
                    issue.raised.isoformat(),
                    issue.due.isoformat(),
                    "已销号" if closed else "办理中",
                    issue.closed.isoformat() if closed else None,
                ]
            )
        path = landing / "fgj" / f"项目问题台账_{as_of.isoformat()}.xlsx"
        return save_workbook(workbook, path, self.departments["fgj"], dt.datetime.combine(as_of, dt.time(17, 30)))

    # -- targets -------------------------------------------------------------------------------------

    def indicator_targets(self, year: int, adjusted: bool = False) -> list[list[object]]:
        """The 指标目标 rows of a year: 2025's are the seed's; a later year's continue the trend the figures
        follow. Adjusted (年中调整): the growth indicators drawn red this year get a target lower by
        ADJUSTMENT_PP, which makes them yellow."""
        red_growth = {code for code, offset in self.growth_offsets(year).items() if offset < -2}
        rows = []
        for row in seed_rows("targets"):
            if int(row["year"]) != TARGET_YEAR:
                continue
            code, assessed = row["indicator_code"], row["is_assessment_target"] == "true"
            indicator = self.indicators[code]
            kind = indicator["target_type"]
            value = float(row["target_value"])
            baseline = float(row["baseline_value"]) if row["baseline_value"] else None
            if kind == "cumulative":
                value *= CUMULATIVE_TREND ** (year - TARGET_YEAR)
            elif kind == "stock" and baseline is not None:
                step = (value - baseline) * (year - TARGET_YEAR)
                value, baseline = value + step, baseline + step
            if adjusted and assessed and code in red_growth:
                value -= ADJUSTMENT_PP
            whole = indicator["unit"] in ("家", "个", "列", "人") and kind in ("cumulative", "stock")
            source = row["target_source"] if year == TARGET_YEAR else f"{year}年工作方案"
            rows.append(
                [
                    year,
                    indicator["indicator_name"],
                    "%" if kind in ("growth", "level") else indicator["unit"],
                    round(value) if whole else _one(value),
                    None if baseline is None else round(baseline),
                    f"{source}（年中调整）" if adjusted else source,
                    "是" if assessed else "否",
                ]
            )
        return rows

    def write_target_file(self, year: int, landing: Path, adjusted_in: int | None = None) -> Path:
        """发改局's 年度目标任务表 in the sample's layout: three sheets (指标目标, 产业链目标, 招商目标), each
        with a title row above its header. `adjusted_in` (a month) writes the re-delivered 年中调整 file."""
        suffix = "（年中调整）" if adjusted_in else ""
        source = f"{year}年工作方案{suffix}"
        workbook, sheet = titled_sheet([[f"胶州市{year}年经济运行主要目标任务表{suffix}"]], 7)
        sheet.title = "指标目标"
        sheet.append(["年度", "指标名称", "计量单位", "目标值", "基期值", "目标来源", "是否考核目标"])
        for row in self.indicator_targets(year, adjusted=bool(adjusted_in)):
            sheet.append(row)
        sheet.append(["注：增速类、占比类指标的目标值为百分数（%）；基期值仅存量类指标填写（上年末数）。"])

        chains = workbook.create_sheet("产业链目标")
        chains.append([f"{year}年重点产业链产业规模目标"])
        chains.merge_cells("A1:E1")
        chains.append(["年度", "产业类别", "产业链", "产业规模目标（亿元）", "目标来源"])
        for chain in self.chains:
            chains.append(
                [year, chain["industry_category"], chain["chain_name"], _one(self.chain_target(chain, year)), source]
            )

        signings = workbook.create_sheet("招商目标")
        signings.append([f"{year}年招商引资目标"])
        signings.merge_cells("A1:E1")
        signings.append(["年度", "产业类别", "新签约项目目标（个）", "新开工项目目标（个）", "目标来源"])
        categories = [row for row in seed_rows("project_targets") if int(row["year"]) == TARGET_YEAR]
        for row in categories:
            signings.append(
                [year, row["industry_category"], int(row["signed_target"]), int(row["started_target"]), source]
            )
        signings.append(
            [
                year,
                "合计",
                sum(int(row["signed_target"]) for row in categories),
                sum(int(row["started_target"]) for row in categories),
                source,
            ]
        )

        path = landing / "fgj" / f"胶州市{year}年经济运行主要目标任务表{suffix}.xlsx"
        delivered = dt.datetime(year, adjusted_in or 1, 20, 10, 0)
        return save_workbook(workbook, path, self.departments["fgj"], delivered)
