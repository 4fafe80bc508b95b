"""How fast does the platform ingest a province-sized 重点企业产值月报, next to plain COPY and pandas?

    .venv/bin/python benchmarks/ingest.py                  # 1,000,000 rows
    .venv/bin/python benchmarks/ingest.py --rows 100000    # a quicker try
    .venv/bin/python benchmarks/ingest.py --floor          # also the server-side floor of (a), see below
    .venv/bin/python benchmarks/ingest.py --row-by-row     # also (a) with the bulk path off

A deterministic GBK CSV shaped exactly like `demo_data/2025-09/tjj/重点企业产值月报_202509.csv` (same
header, CRLF lines, plain one-decimal numbers; the rows vary with --seed) is written to
`<tmp>/landing/tjj/重点企业产值月报_202509.csv` and loaded three ways into a fresh embedded warehouse whose
data lives in the same temporary directory (never in the checkout's `.local/`):

(a) the platform's ingest (`econ_monitor.ingest.loader.ingest_landing`: file hash, header recognition,
    every cell checked — here by the bulk path, see plugins/econ_monitor/ingest/bulk.py —, row numbers
    and load id on every row, audit row, supersede), run in a child process so that its peak memory
    (max RSS) and CPU time come from the kernel's accounting of that one process;
(b) a plain `COPY … FROM STDIN WITH (FORMAT csv, HEADER, ENCODING 'GBK')` streaming the file's bytes into
    a bare table with the same eight columns (no checks, no lineage: the upper bound);
(c) pandas `read_csv(encoding='gbk')` + `DataFrame.to_sql` over SQLAlchemy/psycopg, the loader people
    usually write by hand.

With --floor it also times COPY of (a)'s own rows, exported as COPY text, into a table shaped like
raw.enterprise_report_rows (the delivered columns, source_row, load_id with its BRIN index): what the
server alone needs for the platform's table, i.e. the fastest any loader into it could be.

It prints figures only; nothing about timing is asserted. The issue's target is (a) at least half of
(b)'s rows/s with a peak under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "统一社会信用代码,企业名称,所属产业链,所在镇街,本月产值(万元),1-本月累计产值(万元),累计同比增长(%),包挂领导"
FILE_NAME = "重点企业产值月报_202509.csv"
COLUMNS = (
    "credit_code text NOT NULL, enterprise_name text, chain_name text, town text, "
    "month_output_wan numeric, ytd_output_wan numeric, ytd_growth_pct numeric, leader_title text"
)
LABELS = {
    "copy": "(b) COPY csv, ENCODING 'GBK'",
    "ingest": "(a) platform ingest (ingest_landing)",
    "floor": "    floor: COPY of (a)'s rows as text",
    "row-by-row": "    (a) with the bulk path off",
    "pandas": "(c) pandas read_csv + to_sql",
}
COLUMN_NAMES = (
    "credit_code",
    "enterprise_name",
    "chain_name",
    "town",
    "month_output_wan",
    "ytd_output_wan",
    "ytd_growth_pct",
    "leader_title",
)

CHAINS = (
    "绿色食品",
    "智能产业",
    "钢结构",
    "智能家居",
    "智能家电",
    "机械装备",
    "帽饰",
    "新能源",
    "新材料",
    "生物医药",
    "轨道交通",
    "纺织服装",
    "航空航天",
    "集成电路",
)
FORMS = ("科技", "制造", "实业", "集团", "发展", "股份")
CITIES = (
    "青岛",
    "济南",
    "烟台",
    "潍坊",
    "淄博",
    "临沂",
    "济宁",
    "威海",
    "日照",
    "德州",
    "聊城",
    "滨州",
    "菏泽",
    "枣庄",
    "泰安",
    "东营",
)
TOWNS = (
    "胶莱街道",
    "胶北街道",
    "胶东街道",
    "洋河镇",
    "李哥庄镇",
    "九龙街道",
    "阜安街道",
    "胶西街道",
    "铺集镇",
    "三里河街道",
    "里岔镇",
    "中云街道",
    "胶州湾街道",
)
LEADERS = ("分管工业副市长", "分管科技副市长", "分管商贸副市长")


def generate(path: Path, rows: int, seed: int) -> None:
    """`rows` enterprises of a province-wide delivery; the same seed gives the same bytes."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="": the lines carry Excel's CRLF themselves, like the sample file.
    with path.open("w", encoding="gbk", newline="") as out:
        out.write(HEADER + "\r\n")
        lines = []
        for number in range(rows):
            chain = rng.choice(CHAINS)
            county = 100 + number % 137  # Shandong's county-level divisions: 3702xx … 3717xx
            month = rng.uniform(50, 3000)
            ytd = month * rng.uniform(7.5, 10.5)
            lines.append(
                f"9137{county:04d}MA{number:08d},{rng.choice(CITIES)}{chain}{rng.choice(FORMS)}有限公司{number},"
                f"{chain},{rng.choice(TOWNS)},{month:.1f},{ytd:.1f},{rng.uniform(-45, 30):.1f},{rng.choice(LEADERS)}\r\n"
            )
            if len(lines) == 10_000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))


# ---------------------------------------------------------------------------------------------------------
# (a) the platform's ingest, in a child process


def ingest_child(landing: str, url: str, quarantine: str, mode: str) -> None:
    """Runs in the child: load the landing directory and report what happened as one JSON line. In mode
    "row-by-row" the bulk path is off (every file counts as below its size threshold)."""
    from econ_monitor.ingest import bulk
    from econ_monitor.ingest.loader import ingest_landing
    from econ_monitor.warehouse import connect

    if mode == "row-by-row":
        bulk.MIN_FILE_BYTES = math.inf
    with connect(url) as conn:
        started = time.perf_counter()
        results = ingest_landing(conn, Path(landing), Path(quarantine))
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "results": [[r.status, r.rows, r.reason or r.method] for r in results]}))


def run_ingest(landing: Path, url: str, quarantine: Path, mode: str) -> tuple[float, int, float, float, str]:
    """(seconds, rows, peak RSS in MiB, CPU seconds, how the file was read) of the platform's ingest, run in
    its own process.

    os.wait4 returns the resource usage that getrusage(RUSAGE_CHILDREN) accumulates, for this one child
    only: earlier children of ours (the embedded server's initdb) cannot inflate the figure."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--ingest-child", str(landing), url, str(quarantine), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    output = child.stdout.read()
    child.stdout.close()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"the ingest child failed (exit {child.returncode})")
    report = json.loads(output.strip().splitlines()[-1])
    ((status_, rows, detail),) = report["results"]
    if status_ != "loaded":
        raise SystemExit(f"the platform did not load the file: {status_} {detail}")
    # ru_maxrss is in KiB on Linux. CPU time includes the child's start-up (imports), a fraction of a second.
    return report["seconds"], rows, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, detail


# ---------------------------------------------------------------------------------------------------------
# (b) plain COPY and (c) pandas


def run_copy(url: str, path: Path) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bench.copy_enterprise ({COLUMNS})")
        return timed_copy(conn, "COPY bench.copy_enterprise FROM STDIN WITH (FORMAT csv, HEADER, ENCODING 'GBK')", path)


def timed_copy(conn, statement: str, path: Path) -> tuple[float, int]:
    """(seconds, rows) of one COPY … FROM STDIN streaming the file's bytes in 1 MiB blocks, in one transaction."""
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(statement) as copy, path.open("rb") as handle:
            while block := handle.read(1 << 20):
                copy.write(block)
        rows = cur.rowcount
    return time.perf_counter() - started, rows


def run_pandas(url: str, path: Path) -> tuple[float, int]:
    import pandas as pd
    import psycopg
    from sqlalchemy import create_engine

    from econ_monitor.warehouse import sqlalchemy_url

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE bench.pandas_enterprise ({COLUMNS})")
    engine = create_engine(sqlalchemy_url(url))
    try:
        started = time.perf_counter()
        frame = pd.read_csv(path, encoding="gbk")
        frame.columns = COLUMN_NAMES
        frame.to_sql("pandas_enterprise", engine, schema="bench", if_exists="append", index=False)
        return time.perf_counter() - started, len(frame)
    finally:
        engine.dispose()


def run_floor(url: str, work: Path) -> tuple[float, int]:
    """The server's share of (a): COPY the rows the ingest stored (COPY text exported from
    raw.enterprise_report_rows, already typed) into a table shaped like it: same columns, NOT NULLs and
    BRIN index on load_id. No Python work per row: the fastest any ingest into this table could be."""
    import psycopg

    export = work / "enterprise_report_rows.copy"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench.rows_shape (LIKE raw.enterprise_report_rows INCLUDING ALL)")
        with (
            conn.cursor() as cur,
            export.open("wb") as out,
            cur.copy("COPY raw.enterprise_report_rows TO STDOUT") as copy,
        ):
            for block in copy:
                out.write(block)
        seconds, rows = timed_copy(conn, "COPY bench.rows_shape FROM STDIN", export)
    export.unlink()
    return seconds, rows


def count_rows(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - the benchmark's own table names


# ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated file (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20250930, help="seed of the generated rows")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time COPY of the ingest's own, pre-formatted rows into a copy of raw.enterprise_report_rows",
    )
    parser.add_argument(
        "--row-by-row",
        action="store_true",
        help="also time the ingest with the bulk path off (a file that needs converting)",
    )
    parser.add_argument("--skip-pandas", action="store_true", help="leave out (c), the slowest")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and its database files)")
    parser.add_argument(
        "--ingest-child", nargs=4, metavar=("LANDING", "URL", "QUARANTINE", "MODE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.ingest_child:
        ingest_child(*args.ingest_child)
        return

    work = Path(tempfile.mkdtemp(prefix="econ-bench-"))
    # Before econ_monitor is imported: the benchmark's own embedded server, never the checkout's .local/.
    os.environ["ECON_LOCAL_DIR"] = str(work / "local")
    os.environ.pop("ECON_WAREHOUSE_URL", None)
    os.environ["ECON_FILE_SETTLE_SECONDS"] = "0"  # this script wrote the files: they are complete
    try:
        run(args, work)
    finally:
        if (work / "local" / "pgdata").exists():
            from econ_monitor.warehouse import stop_embedded

            stop_embedded()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    """Write the file, start and migrate the warehouse, and print the figures."""
    from econ_monitor.settings import apply_offline_defaults

    apply_offline_defaults()
    from econ_monitor.pipeline import prepare_warehouse

    landing = work / "landing"
    path = landing / "tjj" / FILE_NAME
    started = time.perf_counter()
    generate(path, args.rows, args.seed)
    size = path.stat().st_size
    print(
        f"file: {path.relative_to(work)}  {args.rows:,} rows  {size / 2**20:.1f} MiB GBK  "
        f"(seed {args.seed}, written in {time.perf_counter() - started:.1f} s)",
        flush=True,
    )

    url = prepare_warehouse()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA bench")

    seconds, rows = run_copy(url, path)
    copy_rate = rows / seconds
    print(f"{LABELS['copy']:<38} {seconds:7.2f} s  {copy_rate:>9,.0f} rows/s", flush=True)

    seconds, rows, peak, cpu, method = run_ingest(landing, url, work / "local" / "quarantine", "platform")
    ingest_rate = rows / seconds
    loaded = count_rows(url, "raw.enterprise_report")
    print(
        f"{LABELS['ingest']:<38} {seconds:7.2f} s  {ingest_rate:>9,.0f} rows/s  peak RSS {peak:,.0f} MiB, "
        f"CPU {cpu:.1f} s  ({loaded:,} rows in raw.enterprise_report, {method})",
        flush=True,
    )

    if args.floor:
        seconds, rows = run_floor(url, work)
        print(f"{LABELS['floor']:<38} {seconds:7.2f} s  {rows / seconds:>9,.0f} rows/s", flush=True)

    if args.row_by_row:
        with psycopg.connect(url, autocommit=True) as conn:  # the same bytes again would be a duplicate
            conn.execute("TRUNCATE raw.load_audit, raw.enterprise_report_rows")
        seconds, rows, row_peak, _, method = run_ingest(landing, url, work / "local" / "quarantine", "row-by-row")
        print(
            f"{LABELS['row-by-row']:<38} {seconds:7.2f} s  {rows / seconds:>9,.0f} rows/s  "
            f"peak RSS {row_peak:,.0f} MiB  ({method})",
            flush=True,
        )

    if not args.skip_pandas:
        seconds, rows = run_pandas(url, path)
        print(f"{LABELS['pandas']:<38} {seconds:7.2f} s  {rows / seconds:>9,.0f} rows/s", flush=True)

    print(
        f"ingest / COPY: {ingest_rate / copy_rate:.2f} (target >= 0.50); "
        f"ingest peak memory: {peak:,.0f} MiB (target < 1024 MiB)"
    )


if __name__ == "__main__":
    main()
