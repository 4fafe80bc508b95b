"""The steps of a delivery run, each a function the DAG calls as one task and the tests call directly.

prepare_warehouse → ingest_delivery → (dbt build, through cosmos) → quality_gate → raise_alerts →
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
from econ_monitor.warehouse import connect, export_dbt_env, warehouse_url

log = logging.getLogger(__name__)


def prepare_warehouse() -> str:
    """Start the embedded warehouse if none is configured, and apply the platform's migrations."""
    url = warehouse_url()
    migrate(url)
    export_dbt_env(url)
    return url


def detect_delivery(landing: str | Path) -> list[str]:
    """The files waiting in the landing area; an empty list means there is nothing to do this time."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    with connect() as conn:
        return pending_files(conn, landing)


def ingest_delivery(landing: str | Path) -> dict:
    settings = load_settings()
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    with connect() as conn:
        results = ingest_landing(conn, landing, settings.quarantine_dir)
        quarantined = [r for r in results if r.status == "quarantined"]
        if quarantined:
            with conn.transaction(), conn.cursor() as cur:
                key = hashlib.sha256("|".join(sorted(r.source_file + str(r.load_id) for r in quarantined)).encode())
                queue_data_team_mail(
                    cur,
                    f"quarantine:{key.hexdigest()[:32]}",
                    f"【数据问题】{len(quarantined)} 个报送文件已隔离，未入库",
                    "以下报送文件无法准确读取，已整体隔离（原文件已保留），其余文件照常入库。请联系报送单位更正后重新报送：",
                    [{"what": "文件隔离", "where": r.source_file, "detail": r.reason} for r in quarantined],
                )
    for result in results:
        log.info(result.line())
    return {
        "files": [result.line() for result in results],
        "loaded": sum(r.status == "loaded" for r in results),
        "duplicate": sum(r.status == "duplicate" for r in results),
        "quarantined": len(quarantined),
        "report_types": sorted({r.report_type for r in results if r.status == "loaded"}),
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
    }


def deliver_mail() -> dict:
    with connect() as conn:
        result = deliver_pending(conn, load_settings())
    return {"sent": result.sent, "failed": result.failed, "pending": result.pending}


def notify_task_failure(dag_id: str, task_id: str, run_id: str, landing: str | None, log_url: str | None,
                        error: str) -> None:
    """Tell the data team that a task failed for good (after its retries), through the outbox, and try
    to deliver at once: the DAG's own mail task will not run after a failure upstream."""
    with connect() as conn:
        with conn.transaction(), conn.cursor() as cur:
            queue_data_team_mail(
                cur,
                f"task-failure:{dag_id}:{task_id}:{run_id}",
                f"【运行失败】{dag_id}.{task_id}",
                "数据管道的一个任务在重试后仍然失败，本次运行后续步骤（含预警发送）未执行：",
                [{"what": f"{dag_id}.{task_id} 失败", "where": f"run {run_id}；报送目录 {landing or '—'}；日志 {log_url or '—'}",
                  "detail": error[:1000]}],
            )
        settings = load_settings()
        if settings.smtp_host:
            deliver_pending(conn, settings)
