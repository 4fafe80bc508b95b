"""How long does `dbt build` take on the sample delivery and on 24 months of generated history?

    .venv/bin/python benchmarks/dbt_build.py               # sample, then 2024-01 … 2025-12
    .venv/bin/python benchmarks/dbt_build.py --months 6    # a quicker try

Each case gets a fresh embedded warehouse in a temporary directory (never the checkout's `.local/`):
the deliveries are loaded, then `dbt build` (seeds, models, data tests; unit tests excluded, as in
production) is timed twice — the first build creates everything, the second rebuilds with nothing new.
It prints figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path


def _fresh_warehouse(work: Path, name: str) -> str:
    from econ_monitor.pipeline import prepare_warehouse

    os.environ["ECON_LOCAL_DIR"] = str(work / name)
    os.environ.pop("ECON_WAREHOUSE_URL", None)
    os.environ["ECON_FILE_SETTLE_SECONDS"] = "0"  # this script wrote the files: they are complete
    return prepare_warehouse()


def _time_builds(label: str, url: str, landings: list[Path], work: Path) -> None:
    from econ_monitor.ingest.loader import ingest_landing
    from econ_monitor.transform import build
    from econ_monitor.warehouse import connect, stop_embedded

    with connect(url) as conn:
        for landing in landings:
            ingest_landing(conn, landing, work / "quarantine")
        raw_rows = sum(
            conn.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]  # noqa: S608 - table names are the literals listed below
            for table in (
                "tjj_indicator_report",
                "department_indicator_report",
                "chain_report",
                "project_ledger",
                "issue_ledger",
                "enterprise_report",
            )
        )
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        build(url)
        timings.append(time.perf_counter() - started)
    print(
        f"{label:<34} {len(landings):>3} deliveries {raw_rows:>9,} raw rows   "
        f"first build {timings[0]:6.1f} s   rebuild {timings[1]:6.1f} s"
    )
    stop_embedded()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=24, help="months of generated history from 2024-01 (max 24)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="econ-dbt-bench-"))
    try:
        from econ_monitor.settings import PROJECT_DIR
        from econ_monitor_demo import generate

        _time_builds(
            "sample delivery (2025-09)", _fresh_warehouse(work, "sample"), [PROJECT_DIR / "demo_data" / "2025-09"], work
        )
        last_year, last_month = divmod(2024 * 12 + args.months - 1, 12)
        generate((2024, 1), (last_year, last_month + 1), work / "generated")
        months = sorted(path for path in (work / "generated").iterdir() if path.is_dir())
        _time_builds(f"generated {months[0].name} … {months[-1].name}", _fresh_warehouse(work, "history"), months, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
