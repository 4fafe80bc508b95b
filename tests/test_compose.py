"""The compose stack runs what the tests ran: every service, pinned images, the same DAGs, dbt project and
package, and environment names the package actually reads. (No Docker engine here: checked as a file.)"""

from __future__ import annotations

import re

import yaml

from econ_monitor.settings import PROJECT_DIR

COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", "airflow-worker"]


def test_the_full_stack_is_there():
    assert set(SERVICES) >= {"postgres", "redis", "mailpit", "metabase", "airflow-init", *AIRFLOW_SERVICES}
    commands = {name: SERVICES[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                        "airflow-worker": "celery worker"}
    assert SERVICES["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), (name, image)
    assert (PROJECT_DIR / "Dockerfile").read_text().startswith("# ") and "apache/airflow:3.3.2" in (PROJECT_DIR / "Dockerfile").read_text()


def test_long_running_services_have_health_checks():
    for name, service in SERVICES.items():
        if name != "airflow-init":
            assert "healthcheck" in service, name


def test_dags_dbt_and_package_are_mounted_where_the_settings_look():
    for name in AIRFLOW_SERVICES:
        service = SERVICES[name]
        targets = {volume.split(":")[1] for volume in service["volumes"]}
        env = service["environment"]
        assert {"/opt/econ/dags", "/opt/econ/plugins", "/opt/econ/dbt_project", "/opt/econ/expectations"} <= targets
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/econ/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/econ/plugins"
        assert env["ECON_PROJECT_DIR"] == "/opt/econ"


def test_environment_names_are_the_ones_the_package_reads_and_hold_no_secret():
    source = "\n".join(path.read_text(encoding="utf-8") for path in (PROJECT_DIR / "plugins" / "econ_monitor").rglob("*.py"))
    source += (PROJECT_DIR / "dags" / "econ_delivery.py").read_text(encoding="utf-8")
    read_by_package = set(re.findall(r'"(ECON_[A-Z_]+)"', source))
    env = SERVICES["airflow-worker"]["environment"]
    for name, value in env.items():
        if name.startswith("ECON_"):
            assert name in read_by_package, name
        if any(word in name for word in ("PASSWORD", "SECRET")):
            assert value.startswith("${"), name  # from .env, never written in the file
    for name in ("ECON_WAREHOUSE_URL", "ECON_SMTP_HOST", "ECON_LINK_SECRET", "ECON_LANDING_DIR"):
        assert name in env
    assert "${ECON_DB_PASSWORD}" in env["ECON_WAREHOUSE_URL"]
    assert not (PROJECT_DIR / ".env").exists()
