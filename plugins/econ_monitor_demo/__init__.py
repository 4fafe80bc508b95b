"""Synthetic deliveries for demos: every departmental file type, month after month, as departments send them.

`generate` writes `out/<YYYY-MM>/<department>/<file>`, one landing directory per month like
`demo_data/2025-09`, so a demo can replay a year and more of the platform's life. Why it looks like this:

- Layouts copy the sample delivery: title rows, merged cells, the two-row header of 统计局's report,
  `#` sub-items, subtotal and total rows, footnotes, the sample CSVs' encodings and period spellings.
  统计局 and 工信局 (whose chain figures are 规上工业 statistics) have no January report: their first
  report of a year is 1-2月.
- Names, units, chains, targets, departments and leader titles come from the dbt seeds, so every row maps.
- Levels are designed, not left to chance: each year a fixed spread of distances from target is shared
  out among the indicators and chains, so every month has red, yellow and green ones; some projects
  start late, invest slowly or stall for 3–6 weeks, and some issues run past their deadline.
- Every draw comes from `random.Random` seeded with the seed and what is drawn (indicator, year, month…):
  the same seed gives the same bytes, and a month's files are the same whatever range is generated.
- Targets are data the 发改局 delivers: January's landing directory of each year holds that year's
  年度目标任务表 (the real type-7 layout, three sheets). 2025's equals the seeds; a later year's continues
  the figures' trend (cumulative targets +6 % a year, chains +8 %, a stock's baseline is last year's
  target), so the designed levels hold. Options write a mid-year adjustment (年中调整: a re-delivered
  file that lowers the targets of the red growth indicators, which turns them yellow) or leave a year's
  file out (that year is no_target and the data team is told).

The package: `files` (how each department's files look and are saved), `universe` (the projects, issues and
enterprises drawn from the seed), `generator` (the figures month by month, and `generate`). It is no part
of the runtime package `econ_monitor`: the pipeline never imports it; the CLI's `demo` and `demo-data`, the
tests and the benchmarks do.
"""

from econ_monitor_demo.generator import ADJUSTMENT_PP, STORY, Demo, generate

__all__ = ["ADJUSTMENT_PP", "STORY", "Demo", "generate"]
