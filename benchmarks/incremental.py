"""Does a new month cost a month? 24 months of 1,000,000-row enterprise reports, then one more month.

    .venv/bin/python benchmarks/incremental.py                      # 24 months × 1,000,000 rows
    .venv/bin/python benchmarks/incremental.py --months 6 --rows 200000   # a quicker try
    .venv/bin/python benchmarks/incremental.py --keep /tmp/wh24       # … and keep the set-up warehouse
    .venv/bin/python benchmarks/incremental.py --reuse /tmp/wh24      # start from a copy of it

A fresh embedded warehouse in a temporary directory (never the checkout's `.local/`). The history is
written by the server itself (`INSERT … SELECT generate_series`, one raw.load_audit row per month, as the
loader would leave them): generating 24 million rows through files would time the loader, which
benchmarks/ingest.py does. Then:

1. the first `dbt build` creates every model, `mart_enterprise_monitoring` with all months (untimed
   set-up, printed);
2. a new month of the same size arrives, and the production build (`dbt build`, unit tests excluded:
   seeds, models and data tests), which should recompute that month only;
3. another new month: the mart alone (`dbt run --select`);
4. for comparison, the mart alone with nothing new, then with `--full-refresh`.

It prints figures only, and for each `dbt build` its slowest nodes. The set-up (history and first build)
costs about half an hour at 24 × 1,000,000: `--keep DIR` copies the warehouse as the first build left it
(the embedded server's data directory and dbt's target) to DIR and stops there, `--reuse DIR` skips the
set-up and times steps 2–4 on a copy of DIR (with the months and rows it was made with), as often as needed. A reused warehouse's marts were built by the models
of that day: after a change of a mart's columns, make a new one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
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


def copy_tree(source: Path, target: Path) -> None:
    """`cp -a`, which keeps the files' owner: started by root, the embedded server runs as its own user."""
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", f"{source}/.", str(target)], check=True)


def slowest(results, count: int = 8) -> str:
    """The `count` slowest nodes of a dbt invocation, one per line, for the reader to see where time goes."""
    nodes = sorted(results.results, key=lambda node: node.execution_time, reverse=True)[:count]
    return "\n".join(f"      {node.execution_time:7.1f} s  {node.node.unique_id}" for node in nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=24, help="months of history (default 24)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="enterprises per month (default 1,000,000)")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, metavar="DIR", help="set up, copy the warehouse to DIR (new) and stop")
    kept.add_argument("--reuse", type=Path, metavar="DIR", help="start from a copy of a warehouse kept with --keep")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="econ-incremental-bench-"))
    if args.reuse:
        copy_tree(args.reuse, work)
        setup = json.loads((work / "setup.json").read_text())
        args.months, args.rows = setup["months"], setup["rows"]
    os.environ["ECON_LOCAL_DIR"] = str(work / "local")
    os.environ.pop("ECON_WAREHOUSE_URL", None)
    # dbt's artifacts for this warehouse stay in the temporary directory, not in the checkout.
    os.environ["DBT_TARGET_PATH"] = str(work / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(work / "dbt-logs")

    from econ_monitor.pipeline import prepare_warehouse
    from econ_monitor.transform import build, run_dbt
    from econ_monitor.warehouse import connect, stop_embedded

    def timed(step) -> tuple[float, object]:
        started = time.perf_counter()
        result = step()
        return time.perf_counter() - started, result

    try:
        url = prepare_warehouse()
        *history, new = [(year, month + 1) for year, month in months_from((2024, 1), args.months + 1)]
        if args.reuse:
            print(f"history: {len(history)} months × {args.rows:,} enterprises, reused from {args.reuse}")
        else:
            with connect(url) as conn:
                generating, _ = timed(lambda: [add_month(conn, year, month, args.rows) for year, month in history])
                conn.execute("ANALYZE raw.enterprise_report_rows")
                conn.execute("ANALYZE raw.load_audit")
            print(
                f"history: {len(history)} months × {args.rows:,} enterprises = {len(history) * args.rows:,} raw "
                f"rows written in {generating:.1f} s"
            )
            first, results = timed(lambda: build(url))
            with connect(url) as conn:
                (mart_rows,) = conn.execute("SELECT count(*) FROM marts.mart_enterprise_monitoring").fetchone()
            print(f"first dbt build (every month):             {first:7.1f} s   {mart_rows:,} mart rows")
            print(slowest(results))
            if args.keep:
                stop_embedded()  # a consistent copy of the data directory
                (work / "setup.json").write_text(json.dumps({"months": args.months, "rows": args.rows}))
                copy_tree(work, args.keep)
                print(f"set-up warehouse kept in {args.keep}: time new months with --reuse {args.keep}")
                return

        mart = ["--select", "mart_enterprise_monitoring"]
        *_, second = [(year, month + 1) for year, month in months_from(new, 2)]
        # The production build first: after the mart alone, the models downstream of it would catch up two months.
        for (year, month), label, step in (
            (new, "dbt build (incl. data tests)", lambda: build(url)),
            (second, "the mart alone (incremental)", lambda: run_dbt(["run", *mart], url)),
        ):
            with connect(url) as conn:
                added, _ = timed(lambda conn=conn, year=year, month=month: add_month(conn, year, month, args.rows))
                conn.execute("ANALYZE raw.enterprise_report_rows")
            seconds, results = timed(step)
            with connect(url) as conn:
                (mart_rows,) = conn.execute("SELECT count(*) FROM marts.mart_enterprise_monitoring").fetchone()
            print(
                f"new month {year}-{month:02d} ({args.rows:,} rows written in {added:.1f} s), "
                f"{label}: {seconds:7.1f} s   {mart_rows:,} mart rows"
            )
            print(slowest(results))

        alone, _ = timed(lambda: run_dbt(["run", *mart], url))
        print(f"the mart alone, nothing new (incremental): {alone:7.1f} s")
        full, _ = timed(lambda: run_dbt(["run", *mart, "--full-refresh"], url))
        print(f"the mart alone, --full-refresh:            {full:7.1f} s")
    finally:
        stop_embedded()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
