"""How long does the quality gate take, on the sample delivery and with a province-sized enterprise table?

    .venv/bin/python benchmarks/quality_gate.py                 # sample, then 1,000,000 enterprises
    .venv/bin/python benchmarks/quality_gate.py --rows 100000   # a quicker try

A fresh embedded warehouse in a temporary directory (never the checkout's `.local/`) gets the sample
delivery, the marts are built and the gate runs (GX suites as SQL in Postgres, results stored, Data Docs
written). Then the sample's 重点企业产值月报 is replaced by a generated one with --rows enterprises (the
ingest benchmark's generator), the marts are rebuilt and the gate runs again. It prints figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="enterprises in the large run (default 1,000,000)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="econ-gate-bench-"))
    os.environ["ECON_LOCAL_DIR"] = str(work / "local")
    os.environ.pop("ECON_WAREHOUSE_URL", None)
    os.environ["ECON_FILE_SETTLE_SECONDS"] = "0"  # this script wrote the files: they are complete
    try:
        run(args.rows, work)
    finally:
        from econ_monitor.warehouse import stop_embedded

        stop_embedded()
        shutil.rmtree(work, ignore_errors=True)


def _gate(label: str, rows: int) -> None:
    from econ_monitor.quality.gate import run_gate
    from econ_monitor.warehouse import connect

    started = time.perf_counter()
    with connect() as conn:
        outcome = run_gate(conn, f"benchmark-{label}")
    seconds = time.perf_counter() - started
    print(
        f"{label:<28} {rows:>10,} enterprise rows   gate {seconds:6.1f} s   "
        f"{outcome.checked} checks, {len(outcome.failures)} failed"
    )


def run(rows: int, work: Path) -> None:
    from ingest import generate  # the ingest benchmark's generator of 重点企业产值月报 rows

    from econ_monitor.ingest.loader import ingest_landing
    from econ_monitor.pipeline import prepare_warehouse
    from econ_monitor.settings import PROJECT_DIR
    from econ_monitor.transform import build
    from econ_monitor.warehouse import connect

    url = prepare_warehouse()
    landing = work / "landing"
    shutil.copytree(PROJECT_DIR / "demo_data" / "2025-09", landing)
    with connect(url) as conn:
        ingest_landing(conn, landing, work / "quarantine")
    build(url)
    import great_expectations  # noqa: F401 - timed apart: the import alone takes seconds

    _gate("sample delivery", 1000)
    large = work / "large" / "tjj" / "重点企业产值月报_202509.csv"
    large.parent.mkdir(parents=True)
    generate(large, rows, seed=20250930)
    with connect(url) as conn:
        ingest_landing(conn, work / "large", work / "quarantine")  # supersedes the sample's enterprise report
    started = time.perf_counter()
    build(url)
    print(f"dbt build with {rows:,} enterprises: {time.perf_counter() - started:.1f} s")
    _gate("large enterprise report", rows)


if __name__ == "__main__":
    main()
