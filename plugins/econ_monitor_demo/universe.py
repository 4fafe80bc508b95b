"""The world the departments report on, drawn once from the seed: about 300 projects (with their dates
from talks to operation, stalls and investment pace), the issues raised about them, and about 1,000 key
enterprises. Every draw comes from its own `stream`, so nothing depends on what else was generated."""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass

TOWNS = (
    "胶东街道",
    "胶北街道",
    "胶莱街道",
    "胶西街道",
    "九龙街道",
    "三里河街道",
    "阜安街道",
    "中云街道",
    "洋河镇",
    "李哥庄镇",
    "铺集镇",
    "里岔镇",
)
LIBRARIES = ("重点项目", "招商引资项目", "政府投资项目", "土地资源集约利用类项目")
PROJECT_UNITS = ("市发展和改革局", "市工业和信息化局", "市商务局", "市科技局", "上合示范区管委")
# New signings per 产业类别 as a share of the seed's signing target: 重点实施类 falls well behind.
SIGNING_RATIOS = {
    2024: {"聚焦突破类": 0.15, "重点实施类": 0.15, "加快布局类": 0.15},
    2025: {"聚焦突破类": 0.8, "重点实施类": 0.55, "加快布局类": 1.0},
    2026: {"聚焦突破类": 0.9, "重点实施类": 0.6, "加快布局类": 0.8},
}
CEREMONY_PROJECTS = 6  # signed together on the second Friday of each January (集中签约)
ISSUE_KINDS = (
    ("要素保障", "配套电力接入滞后", "供电公司"),
    ("要素保障", "用地指标未落实", "市自然资源局"),
    ("手续办理", "环评批复未取得", "市生态环境局"),
    ("手续办理", "施工许可证待办理", "市行政审批服务局"),
    ("资金", "融资未到位", "地方金融服务中心"),
    ("资金", "专项资金未拨付", "市财政局"),
    ("其他", "征地拆迁补偿未完成", "属地镇街"),
    ("其他", "施工用水接入滞后", "市水务局"),
)


def stream(seed: int, *key: object) -> random.Random:
    """One stream per thing drawn, so nothing depends on what else (or which range) was generated."""
    return random.Random(":".join(map(str, (seed, *key))))


def _day_progress(day: dt.date) -> float:
    """时序进度 of a weekly ledger, as the spec defines it: day of year over days in the year."""
    return day.timetuple().tm_yday / (366 if calendar.isleap(day.year) else 365)


def fridays_of(year: int, month: int) -> list[dt.date]:
    days = calendar.monthrange(year, month)[1]
    return [dt.date(year, month, day) for day in range(1, days + 1) if dt.date(year, month, day).weekday() == 4]


def _next_friday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


@dataclass(frozen=True)
class Project:
    code: str
    name: str
    library: str
    category: str
    chain: str
    total_wan: int
    yearly_rate_wan: int  # what one year of construction invests
    leader: str
    unit: str
    town: str
    talks_from: dt.date
    signed: dt.date
    planned_start: dt.date
    actual_start: dt.date
    planned_operation: dt.date
    actual_operation: dt.date
    stalls: tuple[tuple[dt.date, dt.date], ...]  # Friday ledgers in between show nothing new

    def stage(self, day: dt.date) -> str:
        if day < self.signed:
            return "在谈"
        if day < self.actual_start:
            return "已签约"
        return "已开工" if day < self.actual_operation else "已投产"

    def progress(self, day: dt.date) -> str:
        stage = self.stage(day)
        if stage != "已开工":
            return {"在谈": "洽谈对接", "已签约": "前期手续办理", "已投产": "竣工投产"}[stage]
        if day < self.actual_start + dt.timedelta(days=56):
            return "基础施工"
        return "设备安装调试" if day >= self.actual_operation - dt.timedelta(days=90) else "主体施工"

    def annual_plan(self, year: int) -> int:
        """Set in January: a year's construction if the project is to start by 30 September and is not
        in operation before the year; otherwise nothing is planned for the year."""
        if self.actual_operation.year < year or self.planned_start > dt.date(year, 9, 30):
            return 0
        return self.yearly_rate_wan

    def ytd_investment(self, day: dt.date, pace: float) -> float:
        """本年累计完成投资: nothing before the start; from the start the year's investment is booked on the
        plan's time progress at the project's pace (as the sample ledgers do); frozen once in operation;
        back to zero every January."""
        new_year = dt.date(day.year, 1, 1)
        if day < self.actual_start or self.actual_operation < new_year:
            return 0.0
        until = min(day, self.actual_operation)
        plan = self.annual_plan(day.year)
        if plan:
            return round(plan * pace * _day_progress(until), 2)
        return round(self.yearly_rate_wan * pace * (until - max(self.actual_start, new_year)).days / 365, 2)


@dataclass(frozen=True)
class Issue:
    code: str
    project: Project
    kind: tuple[str, str, str]  # type, description, responsible unit
    raised: dt.date
    due: dt.date
    closed: dt.date  # may lie beyond any ledger: still open


def _signing_dates(rng: random.Random, year: int, count: int) -> list[dt.date]:
    """A 集中签约 on the second Friday of January, the rest spread over the year."""
    ceremony = _next_friday(dt.date(year, 1, 8))
    days = 366 if calendar.isleap(year) else 365
    spread = [dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(days)) for _ in range(count - CEREMONY_PROJECTS)]
    return sorted([ceremony] * CEREMONY_PROJECTS + spread)


def _stall_windows(rng: random.Random, start: dt.date, operation: dt.date) -> tuple[tuple[dt.date, dt.date], ...]:
    """In about one quarter in five under construction, a project reports nothing new for 3–6 weeks."""
    windows: list[tuple[dt.date, dt.date]] = []
    for year in range(start.year, operation.year + 1):
        for quarter_start in (dt.date(year, month, 1) for month in (1, 4, 7, 10)):
            if rng.random() >= 0.2:
                continue
            first = _next_friday(quarter_start + dt.timedelta(days=rng.randrange(84)))
            last = first + dt.timedelta(weeks=rng.randint(3, 6))
            fits = start + dt.timedelta(days=14) <= first and last <= operation - dt.timedelta(days=7)
            if fits and last.year == first.year and (not windows or windows[-1][1] < first):
                windows.append((first, last))
    return tuple(windows)


def draw_projects(
    seed: int, chains: list[dict[str, str]], targets: dict[str, int], leaders: tuple[str, ...]
) -> list[Project]:
    """About 300 projects signed over 2024–2026, each with its dates from talks to operation."""
    projects: list[Project] = []
    # 2024–2025 share one stream (as first drawn); a later year has its own, so adding it changed nothing
    # of the earlier projects.
    streams = {(): (2024, 2025), **{(year,): (year,) for year in SIGNING_RATIOS if year > 2025}}
    for key, years in streams.items():
        rng = stream(seed, "projects", *key)
        drafts = []
        for year in years:
            ratios = SIGNING_RATIOS[year]
            categories = [
                category for category, target in targets.items() for _ in range(round(target * ratios[category]))
            ]
            rng.shuffle(categories)
            drafts += zip(_signing_dates(rng, year, len(categories)), categories, strict=False)
        projects += _drafted_projects(rng, drafts, chains, leaders, first_index=len(projects) + 1)
    return projects


def _drafted_projects(
    rng: random.Random,
    drafts: list[tuple[dt.date, str]],
    chains: list[dict[str, str]],
    leaders: tuple[str, ...],
    first_index: int,
) -> list[Project]:
    projects = []
    serials: dict[int, int] = {}
    for index, (signed, category) in enumerate(drafts, start=first_index):
        serials[signed.year] = serials.get(signed.year, 0) + 1
        chain = rng.choice([row["chain_name"] for row in chains if row["industry_category"] == category])
        total = rng.choice((5000, 12000, 30000, 50000, 100000, 200000))
        planned_start = signed + dt.timedelta(days=rng.randint(10, 120))
        slow_start = rng.random() < 0.2
        delay = rng.randint(25, 200) if slow_start else rng.randint(-5, 10)
        actual_start = max(planned_start + dt.timedelta(days=delay), signed + dt.timedelta(days=1))
        build_days = rng.randint(240, 720)
        actual_operation = actual_start + dt.timedelta(days=build_days + rng.randint(0, 60))
        projects.append(
            Project(
                code=f"JZXM-{signed.year}-{serials[signed.year]:04d}",
                name=f"{rng.choice(('胶州', '青岛', '山东', '上合'))}{chain}"
                f"{rng.choice(('生产基地', '产业园', '扩建项目', '总部项目', '研发中心', '智能制造项目'))}{index}",
                library=rng.choice(LIBRARIES),
                category=category,
                chain=chain,
                total_wan=total,
                yearly_rate_wan=int(total * rng.choice((0.2, 0.3, 0.4))),
                leader=rng.choice(leaders),
                unit=rng.choice(PROJECT_UNITS),
                town=rng.choice(TOWNS),
                talks_from=signed - dt.timedelta(days=rng.randint(21, 70)),
                signed=signed,
                planned_start=planned_start,
                actual_start=actual_start,
                planned_operation=planned_start + dt.timedelta(days=build_days),
                actual_operation=actual_operation,
                stalls=_stall_windows(rng, actual_start, actual_operation),
            )
        )
    return projects


def draw_issues(seed: int, projects: list[Project], year: int) -> list[Issue]:
    """Two to five issues raised a month (from the first signing on), each due in 15–45 days; most are
    closed in time, a fifth late, a fifth only months later."""
    first_signing = min(project.signed for project in projects)
    drafts = []
    for month in range(1, 13):
        rng = stream(seed, "issues", year, month)
        opens = max(dt.date(year, month, 1), first_signing + dt.timedelta(days=1))
        last_friday = fridays_of(year, month)[-1]
        if opens > last_friday:
            continue
        for _ in range(rng.randint(2, 5)):
            raised = opens + dt.timedelta(days=rng.randint(0, (last_friday - opens).days))
            candidates = [p for p in projects if p.stage(raised) in ("已签约", "已开工")]
            due = raised + dt.timedelta(days=rng.choice((15, 30, 30, 45)))
            outcome = rng.random()
            if outcome < 0.6:
                closed = raised + dt.timedelta(days=rng.randint(3, (due - raised).days))
            elif outcome < 0.8:
                closed = due + dt.timedelta(days=rng.randint(3, 40))
            else:
                closed = due + dt.timedelta(days=rng.randint(45, 160))
            drafts.append((raised, rng.choice(candidates), rng.choice(ISSUE_KINDS), due, closed))
    drafts.sort(key=lambda draft: (draft[0], draft[1].code))
    return [
        Issue(f"WT-{year}-{number:03d}", project, kind, raised, due, closed)
        for number, (raised, project, kind, due, closed) in enumerate(drafts, start=1)
    ]


@dataclass(frozen=True)
class Enterprise:
    credit_code: str
    name: str
    chain: str
    town: str
    leader: str
    output_2023_wan: float


def draw_enterprises(seed: int, chains: list[dict[str, str]], leaders: tuple[str, ...]) -> list[Enterprise]:
    """About 1,000 key enterprises spread over the industrial chains by the size of their targets."""
    rng = stream(seed, "enterprises")
    names = [row["chain_name"] for row in chains]
    weights = [float(row["output_target"]) for row in chains]
    enterprises = []
    for index in range(1000):
        chain = rng.choices(names, weights)[0]
        enterprises.append(
            Enterprise(
                credit_code=f"91370281MA{index:08d}",
                name=f"青岛{chain}{rng.choice(('科技', '制造', '实业', '集团'))}有限公司{index}",
                chain=chain,
                town=rng.choice(TOWNS),
                leader=rng.choice(leaders),
                output_2023_wan=rng.lognormvariate(9.0, 0.9),
            )
        )
    return enterprises


def enterprise_growth(seed: int, index: int, year: int) -> list[float]:
    """YTD growth by month: most grow, about 3% decline by 10–20% (yellow), 1% by more (red)."""
    rng = stream(seed, "enterprise", index, year)
    kind = rng.random()
    if kind < 0.01:
        annual = rng.uniform(-45, -21)
    elif kind < 0.04:
        annual = rng.uniform(-19.5, -10.5)
    else:
        annual = rng.gauss(7, 6)
    return [annual + rng.uniform(-1, 1) for _ in range(12)]
