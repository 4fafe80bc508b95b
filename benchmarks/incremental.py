"""Does a new month cost a month? 24 months of 1,000,000-row enterprise reports, then one more month.

    .venv/bin/python benchmarks/incremental.py                      # 24 months × 1,000,000 rows
    .venv/bin/python benchmarks/incremental.py --months 6 --rows 200000   # a quicker try

A fresh embedded warehouse in a temporary directory (never the checkout's `.local/`). The history is
written by the server itself (`INSERT … SELECT generate_series`, one raw.load_audit row per month, as the
loader would leave them): generating 24 million rows through files would time the loader, which
benchmarks/ingest.py does. Then:

1. the first `dbt build` creates every model, `mart_enterprise_monitoring` with all months (untimed
   set-up, printed);
2. a new month of the same size arrives: the mart alone (`dbt run --select`) recomputes that month only;
3. another new month, and the production build (`dbt build`, unit tests excluded — seeds, models and
   the data tests, which read every month of the mart);
4. for comparison, the mart alone with nothing new, then with `--full-refresh`.

It prints figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

CHAINS = ("绿色食品", "智能产业", "钢结构", "新能源汽车", "高端装备", "新材料")
TOWNS = ("胶莱街道", "胶北街道", "胶东街道", "三里河街道", "九龙街道", "中云街道")
LEADERS = ("分管工业副市长", "分管科技副市长", "分管商贸副市长", "分管农业副市长")


def add_month(conn, year: int, month: int, rows: int) -> None:
    """One month's 重点企业产值月报 with `rows` enterprises, written as the loader writes a loaded file."""
    with conn.transaction():
        (load_id,) = conn.execute(
            """INSERT INTO raw.load_audit (department_code, report_type, source_file, source_sha256, file_bytes,
                                           period_year, period_month, rows_loaded, status)
               VALUES ('tjj', 'key_enterprises', %s, md5(%s), 0, %s, %s, %s, 'loaded') RETURNING load_id""",
            (f"tjj/重点企业产值月报_{year}{month:02d}.csv", f"{year}-{month}-{rows}", year, month, rows),
        ).fetchone()
        conn.execute(
            """INSERT INTO raw.enterprise_report_rows
                   (credit_code, enterprise_name, chain_name, town, month_output_wan, ytd_output_wan,
                    ytd_growth_pct, leader_title, load_id, source_row)
               SELECT '91370281MA' || lpad(i::text, 8, '0'), '青岛企业' || i,
                      (%(chains)s::text[])[1 + i %% 6], (%(towns)s::text[])[1 + i %% 6],
                      round((100 + i %% 2000)::numeric, 1), round(((100 + i %% 2000) * %(month)s)::numeric, 1),
                      round(((i::bigint * 7919 + %(month)s * 31) %% 600 - 300)::numeric / 10, 1),
                      (%(leaders)s::text[])[1 + i %% 4], %(load_id)s, i + 1
               FROM generate_series(1, %(rows)s) AS i""",
            {
                "chains": list(CHAINS),
                "towns": list(TOWNS),
                "leaders": list(LEADERS),
                "month": month,
                "load_id": load_id,
                "rows": rows,
            },
        )


def months_from(start: tuple[int, int], count: int) -> list[tuple[int, int]]:
    first = start[0] * 12 + start[1] - 1
    return [divmod(first + offset, 12) for offset in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=24, help="months of history (default 24)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="enterprises per month (default 1,000,000)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="econ-incremental-bench-"))
    os.environ["ECON_LOCAL_DIR"] = str(work / "local")
    os.environ.pop("ECON_WAREHOUSE_URL", None)
    # dbt's artifacts for this warehouse stay in the temporary directory, not in the checkout.
    os.environ["DBT_TARGET_PATH"] = str(work / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(work / "dbt-logs")

    from econ_monitor.pipeline import prepare_warehouse
    from econ_monitor.transform import build, run_dbt
    from econ_monitor.warehouse import connect, stop_embedded

    def timed(step) -> float:
        started = time.perf_counter()
        step()
        return time.perf_counter() - started

    try:
        url = prepare_warehouse()
        *history, new = [(year, month + 1) for year, month in months_from((2024, 1), args.months + 1)]
        with connect(url) as conn:
            generating = timed(lambda: [add_month(conn, year, month, args.rows) for year, month in history])
            conn.execute("ANALYZE raw.enterprise_report_rows")
            conn.execute("ANALYZE raw.load_audit")
        print(
            f"history: {len(history)} months × {args.rows:,} enterprises = {len(history) * args.rows:,} raw rows "
            f"written in {generating:.1f} s"
        )
        first = timed(lambda: build(url))
        with connect(url) as conn:
            (mart_rows,) = conn.execute("SELECT count(*) FROM marts.mart_enterprise_monitoring").fetchone()
        print(f"first dbt build (every month):             {first:7.1f} s   {mart_rows:,} mart rows")

        mart = ["--select", "mart_enterprise_monitoring"]
        *_, second = [(year, month + 1) for year, month in months_from(new, 2)]
        for (year, month), label, step in (
            (new, "the mart alone (incremental)", lambda: run_dbt(["run", *mart], url)),
            (second, "dbt build (incl. data tests)", lambda: build(url)),
        ):
            with connect(url) as conn:
                added = timed(lambda conn=conn, year=year, month=month: add_month(conn, year, month, args.rows))
                conn.execute("ANALYZE raw.enterprise_report_rows")
            seconds = timed(step)
            with connect(url) as conn:
                (mart_rows,) = conn.execute("SELECT count(*) FROM marts.mart_enterprise_monitoring").fetchone()
            print(
                f"new month {year}-{month:02d} ({args.rows:,} rows written in {added:.1f} s), "
                f"{label}: {seconds:7.1f} s   {mart_rows:,} mart rows"
            )

        alone = timed(lambda: run_dbt(["run", *mart], url))
        print(f"the mart alone, nothing new (incremental): {alone:7.1f} s")
        full = timed(lambda: run_dbt(["run", *mart, "--full-refresh"], url))
        print(f"the mart alone, --full-refresh:            {full:7.1f} s")
    finally:
        stop_embedded()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
