"""How much CPU and how many bytes does a report chart take?

    .venv/bin/python benchmarks/charts.py            # each chart kind 5 times
    .venv/bin/python benchmarks/charts.py --times 20

Draws the charts the monthly bulletin and the weekly dispatch carry, from generated rows of the sample's
size (22 indicators, 12 chains, 8 leaders), with the font the reports use. CPU time, not wall time: on a
busy machine the wall time says little. It prints figures only.
"""

from __future__ import annotations

import argparse
import random
import time

from econ_monitor.reports import charts

LEVELS = ("red", "yellow", "green")


def rows(generator: random.Random) -> dict[str, tuple]:
    board = [
        {
            "indicator_name": f"指标{i}",
            "indicator_code": f"IND{i:02d}",
            "deviation_pp": None if i % 7 == 0 else generator.uniform(-10, 8),
            "warning_level": generator.choice(LEVELS),
        }
        for i in range(22)
    ]
    chains = [
        {
            "chain_name": f"产业链{i}",
            "chain_code": f"CH{i:02d}",
            "time_progress_pct": 75.0,
            "completion_pct": None if i == 3 else generator.uniform(40, 110),
            "deviation_pp": generator.uniform(-20, 10),
            "warning_level": generator.choice(LEVELS),
        }
        for i in range(12)
    ]
    leaders = [
        {
            "leader_code": f"L{i}",
            "leader_title": f"领导{i}",
            "red": generator.randint(0, 5),
            "yellow": generator.randint(0, 6),
        }
        for i in range(8)
    ]
    return {
        "indicator deviation": (charts.indicator_deviation_chart, board),
        "chain completion": (charts.chain_completion_chart, chains),
        "warnings per leader": (charts.warnings_per_leader_chart, leaders),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=int, default=5, help="charts of each kind (default 5)")
    args = parser.parse_args()
    print(f"font: {charts.chart_font().family or 'none with Chinese glyphs (ASCII labels)'}")
    for label, (chart, data) in rows(random.Random(1)).items():
        chart(data)  # the first chart of a process also loads fonts
        started = time.process_time()
        for _ in range(args.times):
            png = chart(data)
        seconds = (time.process_time() - started) / args.times
        print(f"{label:<22} {seconds:6.2f} s CPU per chart   {len(png) / 1024:6.1f} KiB")


if __name__ == "__main__":
    main()
