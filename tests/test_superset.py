"""The BI tool, for real: `deploy/superset.sh up` starts Apache Superset (its own venv) on a warehouse with
the sample delivery's marts, logged in as bi_reader, with the indicator board imported from
deploy/superset/board/. Through Superset's REST API: every chart of the board returns the marts' rows,
the columns carry the Chinese descriptions dbt wrote as Postgres comments, and SQL Lab as bi_reader is
refused raw, monitor and reference.

Skipped when Superset's venv is absent (`make superset`, i.e. `deploy/superset.sh up`, creates it)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from econ_monitor.mailsink import free_port
from econ_monitor.settings import PROJECT_DIR
from tests.support import rows

SUPERSET_VENV = Path(os.environ.get("SUPERSET_VENV", PROJECT_DIR / ".local" / "superset-venv"))
SUPERSET_SH = PROJECT_DIR / "deploy" / "superset.sh"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SUPERSET_VENV / "bin" / "superset").exists(),
        reason=f"no Superset venv at {SUPERSET_VENV} (deploy/superset.sh up creates it)",
    ),
]


class Api:
    """Superset's REST API as a BI client uses it: a JWT login, then a CSRF token (bound to the session
    cookie) for writes."""

    def __init__(self, base: str, password: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self._call(
            "POST",
            "/api/v1/security/login",
            {"username": "admin", "password": password, "provider": "db", "refresh": True},
        )["access_token"]
        self.csrf = self._call("GET", "/api/v1/security/csrf_token/")["result"]

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode()
        )
        if body is not None:
            request.add_header("Content-Type", "application/json")
        request.add_header("Referer", self.base)
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        if getattr(self, "csrf", None):
            request.add_header("X-CSRFToken", self.csrf)
        try:
            with self.opener.open(request, timeout=120) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # Superset answers errors with JSON too
            return {"status": error.code, **json.loads(error.read() or b"{}")}

    def get(self, path: str) -> dict:
        return self._call("GET", path)

    def post(self, path: str, body: dict) -> dict:
        return self._call("POST", path, body)


@pytest.fixture(scope="module")
def superset(sample_warehouse, tmp_path_factory):
    url, conn = sample_warehouse
    state = tmp_path_factory.mktemp("superset")
    port = free_port()
    env = {
        **os.environ,
        "SUPERSET_VENV": str(SUPERSET_VENV),
        "SUPERSET_STATE_DIR": str(state),
        "SUPERSET_PORT": str(port),
        "ECON_PYTHON": sys.executable,
        "ECON_WAREHOUSE_URL": url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR / "plugins"), os.environ.get("PYTHONPATH")])),
    }
    subprocess.run(["bash", str(SUPERSET_SH), "up"], env=env, check=True, timeout=900)
    try:
        api = Api(f"http://127.0.0.1:{port}", (state / "admin_password").read_text().strip())
        yield api, conn
    finally:
        subprocess.run(["bash", str(SUPERSET_SH), "down"], check=False, env=env, timeout=120)


def _board(api: Api) -> dict:
    dashboards = api.get("/api/v1/dashboard/")["result"]
    return next(d for d in dashboards if d["slug"] == "econ-indicator-board")


def test_every_chart_of_the_board_returns_the_marts_rows(superset):
    api, conn = superset
    charts = api.get(f"/api/v1/dashboard/{_board(api)['id']}/charts")["result"]
    names = {chart["slice_name"] for chart in charts}
    assert names == {"主要经济指标监测", "指标预警等级分布", "产业链监测", "招商项目签约开工"}
    for chart in charts:
        data = api.get(f"/api/v1/chart/{chart['id']}/data/")
        assert "result" in data, (chart["slice_name"], data)
        result = data["result"][0]
        assert result["rowcount"] > 0, chart["slice_name"]
        if chart["slice_name"] == "主要经济指标监测":
            # the mart's own figures, row for row
            assert result["rowcount"] == rows(conn, "SELECT count(*) FROM marts.mart_indicator_monitoring")[0][0]
            shown = {(r["indicator_name"], r["period_month"], r["warning_level"]) for r in result["data"]}
            assert shown == set(
                rows(conn, "SELECT indicator_name, period_month, warning_level FROM marts.mart_indicator_monitoring")
            )
        if chart["slice_name"] == "指标预警等级分布":
            counts = {r["warning_level"]: r["count"] for r in result["data"]}
            assert counts == dict(
                rows(conn, "SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring GROUP BY 1")
            )


def test_bi_users_see_the_chinese_descriptions_of_the_columns(superset):
    api, _ = superset
    datasets = api.get("/api/v1/dataset/")["result"]
    indicator = next(d for d in datasets if d["table_name"] == "mart_indicator_monitoring")
    columns = {
        c["column_name"]: c["description"] for c in api.get(f"/api/v1/dataset/{indicator['id']}")["result"]["columns"]
    }
    assert "指标名称" in columns["indicator_name"]
    assert "预警等级" in columns["warning_level"]


def _sql_lab(api: Api, database_id: int, statement: str) -> dict:
    return api.post(
        "/api/v1/sqllab/execute/",
        {"database_id": database_id, "sql": statement, "runAsync": False, "schema": "marts", "tab": "test"},
    )


def test_bi_reader_reads_the_marts_and_is_refused_raw_monitor_and_reference(superset):
    api, _ = superset
    database = next(d for d in api.get("/api/v1/database/")["result"] if d["database_name"] == "经济运行数仓")
    allowed = _sql_lab(api, database["id"], "SELECT count(*) AS n FROM marts.mart_indicator_monitoring")
    assert allowed.get("status") == "success" and allowed["data"][0]["n"] > 0, allowed
    for relation in ("raw.load_audit", "monitor.alerts", "reference.leaders"):
        refused = _sql_lab(api, database["id"], f"SELECT 1 FROM {relation} LIMIT 1")
        assert refused.get("status") != "success", relation
        assert "permission denied" in json.dumps(refused, ensure_ascii=False), (relation, refused)
