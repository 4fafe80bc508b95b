"""`econ-monitor`: the platform's command line for data engineers and the dispatch centre."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from econ_monitor import console
from econ_monitor.settings import PROJECT_DIR, apply_offline_defaults, load_settings

DEMO_LANDING = PROJECT_DIR / "demo_data" / "2025-09"
DEMO_HISTORY = ((2025, 7), (2025, 8))
REPORTS_ON_ANNOUNCEMENT = {
    "announce_monthly_statistics": "econ_monthly_bulletin",
    "announce_weekly_ledger": "econ_weekly_dispatch",
}


@contextmanager
def _mail_server(settings):
    """Use the configured SMTP server, or start the local .eml sink for the duration of the run."""
    if settings.smtp_host:
        yield None
        return
    from econ_monitor.mailsink import start_sink

    sink = start_sink(settings.outbox_dir)
    os.environ["ECON_SMTP_HOST"], os.environ["ECON_SMTP_PORT"] = sink.hostname, str(sink.port)
    try:
        yield settings.outbox_dir
    finally:
        sink.stop()
        os.environ.pop("ECON_SMTP_HOST", None)
        os.environ.pop("ECON_SMTP_PORT", None)


def _ensure_manifest() -> None:
    manifest = PROJECT_DIR / "dbt_project" / "target" / "manifest.json"
    if not manifest.exists():
        from econ_monitor.transform import parse_manifest

        parse_manifest()


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    log_path = console.new_log_path(settings.local_dir, "run")
    with console.output_to_log(log_path) as out:
        print(f"logs of Airflow, cosmos and dbt: {log_path}", file=out)
        return _run_delivery(Path(args.landing).resolve(), settings, log_path, out)


def _run_delivery(landing: Path, settings, log_path: Path, out: TextIO) -> int:
    """The delivery DAG over one landing directory, then the report DAGs its announcements start; a
    summary on `out` (the terminal), everything Airflow, cosmos and dbt write in the log file."""
    from econ_monitor import local_airflow
    from econ_monitor.warehouse import export_dbt_env, warehouse_url

    try:
        local_airflow.configure(settings)
        # A directory named on the command line is complete: its files are taken at once. The settle
        # interval (ECON_FILE_SETTLE_SECONDS) protects the scheduled poll from files still being uploaded.
        os.environ.setdefault("ECON_FILE_SETTLE_SECONDS", "0")
        if settings.link_secret:
            os.environ.setdefault("ECON_LINK_SECRET", settings.link_secret)
        url = warehouse_url(settings)
        os.environ["ECON_WAREHOUSE_URL"] = url  # the DAG's tasks (in this process) use the same warehouse
        export_dbt_env(url)
        _ensure_manifest()
        local_airflow.migrate_metadata_db()
        with _mail_server(settings) as eml_dir:
            state, tasks, values = _run_dag(
                settings, log_path, out, "econ_delivery.py", "econ_delivery", {"landing": str(landing)}
            )
            _print_summary(state, tasks, values, eml_dir, out)
            # In-process runs have no scheduler to follow the delivery's asset events: run the report DAGs
            # that the scheduler would have started.
            for announcement, dag_id in REPORTS_ON_ANNOUNCEMENT.items():
                if tasks.get(announcement) == "success":
                    report_state, _, report_values = _run_dag(settings, log_path, out, "econ_reports.py", dag_id, {})
                    report = next(iter(report_values.values()), {}) or {}
                    if report_state == "success":
                        pdf = Path(report.get("path", "")).with_suffix(".pdf")
                        print(
                            f"{dag_id}: success; {report.get('title', '')} → {report.get('path', '')} (PDF: {pdf.name})",
                            file=out,
                        )
                    state = state if report_state == "success" else report_state
    except Exception as exc:  # noqa: BLE001 - the terminal gets the error and the log path, the log the traceback
        traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}\n  full traceback and logs: {log_path}", file=out)
        return 1
    return 0 if state == "success" else 1


def _run_dag(settings, log_path: Path, out: TextIO, dag_file: str, dag_id: str, conf: dict):
    """One DAG run, a progress line on a terminal while it runs; on failure, the failing tasks, the last
    error the log holds and the log's path."""
    from econ_monitor import local_airflow

    since = console.log_size(log_path)
    started = time.monotonic()
    with console.Progress(out, settings.airflow_home / "airflow.db", dag_id):
        state, tasks, values = local_airflow.run_dag(dag_file, dag_id, conf)
    counts = Counter(tasks.values())
    tally = ", ".join(f"{count} {task_state}" for task_state, count in sorted(counts.items()))
    print(f"DAG {dag_id}: {state} in {time.monotonic() - started:.0f} s ({len(tasks)} tasks: {tally})", file=out)
    failed = sorted(task for task, task_state in tasks.items() if task_state in ("failed", "upstream_failed"))
    if state != "success" or failed:
        print(f"  failed: {', '.join(failed) or 'the run'}", file=out)
        for line in console.error_excerpt(log_path, since):
            print(f"  | {line}", file=out)
        print(f"  log: {log_path}", file=out)
    return state, tasks, values


def _print_summary(state: str, tasks: dict, values: dict, eml_dir: Path | None, out: TextIO) -> None:
    ingest = values.get("ingest") or {}
    gate = values.get("quality_gate") or {}
    alerts = values.get("raise_alerts") or {}
    mail = values.get("deliver_mail") or {}
    lines = []
    if tasks.get("new_files_waiting") == "success" and tasks.get("ingest") == "skipped":
        print("no new files in the landing area: nothing loaded, nothing mailed", file=out)
        return
    lines += [f"  {line}" for line in ingest.get("files", [])]
    lines.append(
        f"files: {ingest.get('loaded', 0)} loaded, {ingest.get('duplicate', 0)} duplicate, "
        f"{ingest.get('quarantined', 0)} quarantined"
    )
    if gate:
        lines.append(
            f"quality gate: {gate.get('status')}; {gate.get('failed_critical', 0)} critical and "
            f"{gate.get('failed_warning', 0)} warning checks failed; "
            f"withheld: {', '.join(gate.get('withheld_domains', [])) or 'none'}"
        )
    if alerts:
        lines.append(
            f"warnings open: {alerts.get('open_red', 0)} red, {alerts.get('open_yellow', 0)} yellow "
            f"({alerts.get('opened', 0)} new, {alerts.get('worsened', 0)} worsened, "
            f"{alerts.get('resolved', 0)} resolved)"
        )
    if mail:
        lines.append(f"mails: {mail.get('sent', 0)} sent, {mail.get('pending', 0)} pending")
    if eml_dir:
        lines.append(f"mails as .eml files: {eml_dir}")
    print("\n".join(lines), file=out)


def cmd_demo(args: argparse.Namespace) -> int:
    """Replay two generated months (history for the marts, the reports' month-on-month changes and the
    weekly ledgers' stale-project detection), then the sample delivery of 2025-09."""
    from econ_monitor_demo import generate

    settings = load_settings()
    history = settings.local_dir / "demo-history"
    log_path = console.new_log_path(settings.local_dir, "demo")
    with console.output_to_log(log_path) as out:
        print(f"logs of Airflow, cosmos and dbt: {log_path}", file=out)
        generate(DEMO_HISTORY[0], DEMO_HISTORY[-1], history)  # the same bytes every time: a re-run loads nothing
        code = 0
        for month in sorted(path for path in history.iterdir() if path.is_dir()):
            print(f"\n=== {month.name}: generated delivery ({month}) ===", file=out)
            code = _run_delivery(month, settings, log_path, out) or code
        print(f"\n=== 2025-09: the sample delivery ({DEMO_LANDING}) ===", file=out)
        code = _run_delivery(DEMO_LANDING, settings, log_path, out) or code
        from econ_monitor.warehouse import warehouse_url

        print("\nWhere to look:", file=out)
        print(f"  warehouse:  psql '{warehouse_url()}'  (e.g. SELECT * FROM marts.mart_indicator_monitoring)", file=out)  # noqa: S608 - a message printed to the terminal, not SQL
        print("  alerts:     econ-monitor alerts list", file=out)
        print(f"  reports:    {settings.local_dir / 'reports'}/<kind>/<period>.html and .pdf", file=out)
        print(f"  logs:       {log_path}", file=out)
    return code


def cmd_ingest(args: argparse.Namespace) -> int:
    from econ_monitor.ingest.loader import ingest_landing
    from econ_monitor.pipeline import prepare_warehouse
    from econ_monitor.warehouse import connect

    settings = load_settings()
    url = prepare_warehouse()
    with connect(url) as conn:
        results = ingest_landing(conn, Path(args.landing), settings.quarantine_dir)
    for result in results:
        print(result.line())
    return 1 if any(r.status == "quarantined" for r in results) else 0


def cmd_build(args: argparse.Namespace) -> int:
    from econ_monitor.pipeline import prepare_warehouse
    from econ_monitor.transform import build

    build(prepare_warehouse())
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from econ_monitor.alerts import state
    from econ_monitor.warehouse import connect

    with connect() as conn:
        if args.action == "list":
            rows = conn.execute(
                """SELECT alert_key, level, status, leader_code, entity_name, period_label, claimed_by
                   FROM monitor.alerts WHERE (%s OR status <> 'closed') AND (%s::text IS NULL OR leader_code = %s)
                   ORDER BY level DESC, leader_code, alert_key""",
                (args.all, args.leader, args.leader),
            ).fetchall()
            for key, level, status, leader_code, name, period, claimed_by in rows:
                claimer = f" ({claimed_by})" if claimed_by else ""
                print(f"{level:<6} {status:<7}{claimer} {leader_code:<4} {period or '':<12} {name}  [{key}]")
            print(f"{len(rows)} warnings")
            return 0
        try:
            if args.action == "show":
                _print_history(*state.history(conn, args.alert_key))
                return 0
            action = {"claim": state.claim, "feedback": state.feedback, "close": state.close}[args.action]
            alert = action(conn, args.alert_key, args.leader, actor=args.actor or args.leader, note=args.note)
        except state.AlertActionError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(f"{alert['alert_key']}: {alert['status']}")
        return 0


def _print_history(alert: dict, events: list[dict]) -> None:
    """A warning as its leader sees it (wording's figures), then its history with notes, oldest first."""
    from econ_monitor.wording import describe, level_label

    measure, gap = describe(alert)
    print(f"{alert['alert_key']}  {alert['entity_name'] or alert['entity_code']}")
    print(
        f"  {level_label(alert['level'])} · {alert['status']} · episode {alert['episode']} · "
        f"{alert['leader_code']} · {alert['period_label'] or ''}"
    )
    print(f"  {measure}" + (f"\n  缺口：{gap}" if gap else ""))
    for event in events:
        when = event["occurred_at"].astimezone().strftime("%Y-%m-%d %H:%M")
        who = f" {event['actor']}" if event["actor"] and event["actor"] != "data" else ""
        note = f"：{event['note']}" if event["note"] else ""
        reason = f" ({event['details']['reason']})" if event["details"].get("reason") else ""
        print(
            f"  {when}  #{event['episode'] or '-'} {event['event_type']:<16} {event['level'] or '':<6}{who}{note}{reason}"
        )


def _month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from econ_monitor_demo import generate

    written = generate(
        _month(args.start),
        _month(args.end),
        Path(args.out),
        seed=args.seed,
        adjust_targets=_month(args.adjust_targets) if args.adjust_targets else None,
        omit_targets=tuple(args.omit_targets),
    )
    months = sorted({path.relative_to(args.out).parts[0] for path in written})
    print(
        f"{len(written)} files in {len(months)} monthly landing directories under {args.out}: {months[0]} … {months[-1]}"
    )
    return 0


def cmd_warehouse(args: argparse.Namespace) -> int:
    from econ_monitor.warehouse import stop_embedded, warehouse_url

    if args.action == "url":
        print(warehouse_url())
    elif args.action == "stop":
        print("stopped" if stop_embedded() else "not running")
    return 0


def cmd_mail_sink(args: argparse.Namespace) -> int:
    import time

    from econ_monitor.mailsink import start_sink

    directory = Path(args.dir) if args.dir else load_settings().outbox_dir
    sink = start_sink(directory, host=args.host, port=args.port)
    print(f"SMTP sink on {sink.hostname}:{sink.port}, writing .eml files to {directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sink.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="econ-monitor", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the delivery DAG in-process over a landing directory")
    run.add_argument("--landing", required=True, help="<landing>/<department>/<file>")
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser("demo", help="replay two generated months, then the bundled sample delivery")
    demo.set_defaults(func=cmd_demo)

    ingest = commands.add_parser("ingest", help="load a landing directory into raw tables, one line per file")
    ingest.add_argument("--landing", required=True)
    ingest.set_defaults(func=cmd_ingest)

    build = commands.add_parser("build", help="dbt build (seeds, models, tests)")
    build.set_defaults(func=cmd_build)

    alerts = commands.add_parser(
        "alerts", help="list or show warnings; claim (领任务), give feedback (反馈) on, or close (销号) one"
    )
    alerts.add_argument("action", choices=("list", "show", "claim", "feedback", "close"))
    alerts.add_argument("alert_key", nargs="?")
    alerts.add_argument("--leader", help="leader code (L01…, D00); required for claim, feedback and close")
    alerts.add_argument("--actor", help="who acts (defaults to the leader code)")
    alerts.add_argument("--note", help="the leader's note, kept with time and author in the warning's history")
    alerts.add_argument("--all", action="store_true", help="list closed warnings too")
    alerts.set_defaults(func=cmd_alerts)

    demo_data = commands.add_parser("demo-data", help="write synthetic deliveries in the samples' formats")
    demo_data.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    demo_data.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    demo_data.add_argument("--out", required=True, help="directory for <YYYY-MM>/<department>/<file>")
    demo_data.add_argument("--seed", type=int, default=2025)
    demo_data.add_argument(
        "--adjust-targets",
        metavar="YYYY-MM",
        help="also write a re-delivered (年中调整) target file of that year in that month",
    )
    demo_data.add_argument(
        "--omit-targets",
        metavar="YEAR",
        type=int,
        action="append",
        default=[],
        help="write no 年度目标任务表 for that year (its measures are no_target)",
    )
    demo_data.set_defaults(func=cmd_demo_data)

    warehouse = commands.add_parser("warehouse", help="the embedded warehouse: print its URL or stop it")
    warehouse.add_argument("action", choices=("url", "stop"))
    warehouse.set_defaults(func=cmd_warehouse)

    sink = commands.add_parser("mail-sink", help="run a local SMTP server that stores .eml files")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=8025)
    sink.add_argument("--dir")
    sink.set_defaults(func=cmd_mail_sink)
    return parser


def main(argv: list[str] | None = None) -> int:
    apply_offline_defaults()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.command == "alerts" and args.action == "show" and not args.alert_key:
        parser.error("show needs an alert key")
    if args.command == "alerts" and args.action not in ("list", "show") and not (args.alert_key and args.leader):
        parser.error("claim, feedback and close need an alert key and --leader")
    if args.command == "alerts" and args.action == "feedback" and not args.note:
        parser.error("feedback needs --note")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
