"""The steps of a delivery run, each a function the DAG calls as one task and the tests call directly.

poll_landing (prepare_warehouse, detect_delivery) → ingest_delivery → (dbt build, through cosmos) → quality_gate → raise_alerts →
deliver_mail. Every step is idempotent: running it again after a failure, or on the same delivery,
changes nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from econ_monitor.alerts.digest import queue_data_team_mail, queue_digests, queue_escalations, queue_link_reminders
from econ_monitor.alerts.outbox import deliver_pending
from econ_monitor.alerts.state import sync_alerts
from econ_monitor.ingest.loader import ingest_landing, pending_files
from econ_monitor.schema import migrate
from econ_monitor.settings import load_settings
from econ_monitor.targets import queue_missing_target_mails
from econ_monitor.warehouse import connect, export_dbt_env, warehouse_url

log = logging.getLogger(__name__)


def prepare_warehouse() -> str:
    """Start the embedded warehouse if none is configured, and apply the platform's migrations."""
    url = warehouse_url()
    migrate(url)
    export_dbt_env(url)
    return url


def detect_delivery(landing: str | Path) -> list[str]:
    """The files waiting in the landing area (new or changed since last read, and no longer being
    written); an empty list means there is nothing to do this time. Nothing is opened."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    with connect() as conn:
        return pending_files(conn, landing)


def poll_landing(landing: str | Path) -> list[str]:
    """A scheduled run's first step, and with nothing new its only one: the warehouse prepared (started,
    migrated), then the files waiting. One task, not two: most runs of the 10-minute schedule find
    nothing, and on a scheduler every task is a process of its own that parses the DAG file."""
    prepare_warehouse()
    return detect_delivery(landing)


def ingest_delivery(landing: str | Path, run_id: str | None = None) -> dict:
    """Load the delivery. A file's content never fails this step: a bad file is quarantined, an entry
    that is no regular file refused, and DT0 gets one mail listing both; only infrastructure errors
    (the database away) raise, so that the task is retried.

    `report_types` (what the report DAGs follow) is what the run `run_id` brought in, read from the
    audit rows it marked: a retry whose first try's loads committed before its worker died finds those
    files read already, and would otherwise announce nothing, so that no report is ever sent for them."""
    settings = load_settings()
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    with connect() as conn:
        if run_id:  # the column default of raw.load_audit.run_id (migration 0007)
            conn.execute("SELECT set_config('econ_monitor.run_id', %s, false)", (run_id,))
        results = ingest_landing(conn, landing, settings.quarantine_dir)
        # a row with a report type is a load, or bytes that made a superseded delivery current again
        brought = {
            report_type
            for (report_type,) in conn.execute(
                "SELECT DISTINCT report_type FROM raw.load_audit WHERE run_id = %s AND report_type IS NOT NULL",
                (run_id,),
            )
        }
        rejected = [r for r in results if r.status in ("quarantined", "refused")]
        if rejected:
            with conn.transaction(), conn.cursor() as cur:
                key = hashlib.sha256(
                    "|".join(sorted(f"{r.source_file}{r.load_id}{r.reason}" for r in rejected)).encode()
                )
                queue_data_team_mail(
                    cur,
                    f"quarantine:{key.hexdigest()[:32]}",
                    f"【数据问题】{len(rejected)} 个报送文件已隔离或拒收，未入库",
                    "以下报送文件无法准确读取，已整体隔离（原文件已保留），或不是普通文件（链接、管道、设备），"
                    "已拒收且未打开；其余文件照常入库。请联系报送单位更正后重新报送：",
                    [
                        {
                            "what": "文件隔离" if r.status == "quarantined" else "拒收（非普通文件）",
                            "where": r.source_file,
                            "detail": r.reason,
                        }
                        for r in rejected
                    ],
                )
    for result in results:
        log.info(result.line())
    return {
        "files": [result.line() for result in results],
        "loaded": sum(r.status == "loaded" for r in results),
        "duplicate": sum(r.status == "duplicate" for r in results),
        "quarantined": sum(r.status == "quarantined" for r in results),
        "refused": sum(r.status == "refused" for r in results),
        "waiting": sum(r.status == "waiting" for r in results),
        # what changed: new loads, and earlier deliveries made current again (which supersede others)
        "report_types": sorted(
            brought | {r.report_type for r in results if r.report_type and (r.status == "loaded" or r.superseded)}
        ),
    }


def quality_gate(run_id: str) -> dict:
    """Check the loaded data and the marts; critical failures withhold the alerts of their domains."""
    from econ_monitor.quality.gate import run_gate  # GX is imported only when the gate runs

    with connect() as conn:
        outcome = run_gate(conn, run_id)
    return outcome.as_dict()


def raise_alerts(withheld_domains: list[str] | tuple[str, ...] = ()) -> dict:
    """Apply the marts to the warnings, then queue the digests, escalations and link reminders they call for."""
    settings = load_settings()
    withheld = tuple(withheld_domains)
    with connect() as conn:
        summary = sync_alerts(conn, withheld)
        digests = queue_digests(conn, settings, withheld)
        escalations = queue_escalations(conn, settings)
        missing_targets = queue_missing_target_mails(conn)  # to the data team, never to leaders
        reminders = queue_link_reminders(conn, settings)
        levels = dict(
            conn.execute(
                "SELECT level, count(*) FROM monitor.alerts WHERE status <> 'closed' GROUP BY level"
            ).fetchall()
        )
    return {
        "opened": len(summary.opened),
        "worsened": len(summary.worsened),
        "resolved": len(summary.resolved),
        "reopened": len(summary.reopened),
        "year_ended": len(summary.year_ended),
        "open_red": levels.get("red", 0),
        "open_yellow": levels.get("yellow", 0),
        "digests_queued": len(digests),
        "escalations_queued": len(escalations),
        "reminders_queued": len(reminders),
        "withheld_domains": list(withheld),
        "missing_targets_mailed": missing_targets,
    }


def deliver_mail() -> dict:
    with connect() as conn:
        result = deliver_pending(conn, load_settings())
    return {"sent": result.sent, "failed": result.failed, "pending": result.pending}


def notify_task_failure(
    dag_id: str, task_id: str, run_id: str, landing: str | None, log_url: str | None, error: str
) -> None:
    """Tell the data team that a task failed for good (after its retries), through the outbox, and try
    to deliver at once: the DAG's own mail task will not run after a failure upstream."""
    with connect() as conn:
        with conn.transaction(), conn.cursor() as cur:
            queue_data_team_mail(
                cur,
                f"task-failure:{dag_id}:{task_id}:{run_id}",
                f"【运行失败】{dag_id}.{task_id}",
                "数据管道的一个任务在重试后仍然失败，本次运行后续步骤（含预警发送）未执行：",
                [
                    {
                        "what": f"{dag_id}.{task_id} 失败",
                        "where": f"run {run_id}；报送目录 {landing or '—'}；日志 {log_url or '—'}",
                        "detail": error[:1000],
                    }
                ],
            )
        settings = load_settings()
        if settings.smtp_host:
            deliver_pending(conn, settings)
