"""The compose stack runs what the tests ran: every service, pinned images, the same DAGs, dbt project and
package, the environment file the native cluster (tests/test_cluster.py) runs on, environment names the
package actually reads, no default secret, and health checks that probe what each service runs.

No container engine here: `docker compose config` validates the file when a compose CLI is installed
(Debian's docker-compose counts); the structure is checked in Python in any case."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from econ_monitor.settings import PROJECT_DIR

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
]
AIRFLOW_ENV_FILE = PROJECT_DIR / "deploy" / "airflow.env"
LOCAL_CLUSTER = PROJECT_DIR / "deploy" / "local_cluster.py"
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY")


def _airflow_env() -> dict[str, str]:
    sys.path.insert(0, str(PROJECT_DIR / "deploy"))
    from local_cluster import read_env_file

    return read_env_file(AIRFLOW_ENV_FILE)


def test_the_full_stack_is_there():
    assert set(SERVICES) >= {"postgres", "redis", "mailpit", "superset", "airflow-init", *AIRFLOW_SERVICES}
    assert "metabase" not in SERVICES  # Superset replaced it: one BI tool, the one the suite tests
    commands = {name: SERVICES[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
        "airflow-worker": "celery worker",
    }


def test_every_airflow_service_reads_the_environment_file_the_native_cluster_runs_on():
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        assert SERVICES[name]["env_file"] == "deploy/airflow.env", name
    shared = _airflow_env()
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    for name, value in shared.items():
        assert "${" not in value, name  # an env_file is not interpolated the same way everywhere: literals only
        assert not any(word in name for word in SECRET_WORDS), name
    # compose's environment overrides an env_file: nothing may be set in both
    assert not set(shared) & set(SERVICES["airflow-worker"]["environment"])


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), (name, image)
    assert (PROJECT_DIR / "Dockerfile").read_text().startswith("# ") and "apache/airflow:3.3.2" in (
        PROJECT_DIR / "Dockerfile"
    ).read_text()


def test_workers_can_talk_to_the_api_server():
    """Without the JWT secret, tasks fail with "Invalid auth token: Signature verification failed"."""
    for name in AIRFLOW_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")


def test_the_mail_catcher_is_only_in_the_dev_profile_and_real_smtp_comes_from_env():
    assert SERVICES["mailpit"]["profiles"] == ["dev"]
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["mailpit"]["ports"])
    for name in AIRFLOW_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["ECON_SMTP_HOST"].startswith("${ECON_SMTP_HOST:?")
        assert "mailpit" not in str(env)
    for name, service in SERVICES.items():
        assert "mailpit" not in str(service.get("depends_on", {})), name


def test_no_default_passwords_anywhere():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for match in re.finditer(r"\$\{([A-Z_]+)(:?[-?])?([^}]*)\}", text):
        name, operator, default = match.groups()
        if any(word in name for word in SECRET_WORDS) and name != "ECON_SMTP_PASSWORD":
            assert operator in (None, ":?") and not (operator == ":-" and default), match.group(0)
    assert "${ECON_SMTP_PASSWORD:-}" in text  # optional login to the mail server: empty, not a default
    example = dict(
        line.split("=", 1)
        for line in (PROJECT_DIR / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name, value in example.items():
        if any(word in name for word in SECRET_WORDS):
            assert value == "", name
    # every secret compose needs is in .env.example, so that a user sets it
    needed = {m.group(1) for m in re.finditer(r"\$\{([A-Z_]+):\?", text)}
    assert needed <= set(example), needed - set(example)
    assert not (PROJECT_DIR / ".env").exists()


def test_weak_secrets_are_refused_at_start():
    strong = "kT3v9Qx_2mLp8Rz4Wc7Yb1Nd6Hf0Js5Ga-Ue"
    for value, refused in (
        ("change-me-to-a-long-random-string", True),
        ("short", True),
        ("a" * 40, True),
        (strong, False),
    ):
        result = subprocess.run(
            [sys.executable, str(LOCAL_CLUSTER), "check-secrets", "ECON_LINK_SECRET"],
            env={"ECON_LINK_SECRET": value, "PATH": "/usr/bin:/bin"},
            check=False,
            capture_output=True,
            text=True,
        )
        assert (result.returncode != 0) == refused, (value, result.stderr)
    # compose's airflow-init runs the same check on every secret before anything starts
    init = " ".join(SERVICES["airflow-init"]["command"])
    assert "check-secrets" in init
    for name in ("AIRFLOW__API_AUTH__JWT_SECRET", "ECON_LINK_SECRET", "AIRFLOW_ADMIN_PASSWORD", "REDIS_PASSWORD"):
        assert name in init


def test_health_checks_probe_what_each_service_runs():
    checks = {name: " ".join(s["healthcheck"]["test"]) for name, s in SERVICES.items() if "healthcheck" in s}
    assert "/api/v2/monitor/health" in checks["airflow-apiserver"]
    assert (
        ":8974/health" in checks["airflow-scheduler"]
        and _airflow_env()["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True"
    )
    assert "--job-type DagProcessorJob" in checks["airflow-dag-processor"]
    assert "--job-type TriggererJob" in checks["airflow-triggerer"]
    assert "inspect ping" in checks["airflow-worker"]
    assert "REDIS_PASSWORD" in checks["redis"]  # redis requires its password, so must the probe
    assert "/health" in checks["superset"]
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
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (PROJECT_DIR / "plugins" / "econ_monitor").rglob("*.py")
    )
    source += (PROJECT_DIR / "dags" / "econ_delivery.py").read_text(encoding="utf-8")
    read_by_package = set(re.findall(r'"(ECON_[A-Z_]+)"', source))
    env = SERVICES["airflow-worker"]["environment"]
    for name, value in env.items():
        if name.startswith("ECON_"):
            assert name in read_by_package, name
        if any(word in name for word in ("PASSWORD", "SECRET")) and not name.endswith("_FILE"):
            assert value.startswith("${"), name  # from .env, never written in the file
    for name in ("ECON_WAREHOUSE_URL", "ECON_SMTP_HOST", "ECON_LINK_SECRET", "ECON_LANDING_DIR"):
        assert name in env
    assert "${ECON_DB_PASSWORD" in env["ECON_WAREHOUSE_URL"]


def test_superset_runs_the_board_the_suite_tests():
    superset = SERVICES["superset"]
    assert superset["command"][-2:] == ["/opt/econ/deploy/superset.sh", "serve"]
    assert superset["environment"]["ECON_BI_URI"].startswith("postgresql+psycopg2://bi_reader:")
    pinned = (PROJECT_DIR / "deploy" / "superset" / "requirements.txt").read_text()
    assert f"apache-superset=={superset['image'].split(':')[1]}" in pinned


def _compose_cli() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], check=False, capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no compose CLI (docker compose / docker-compose) installed")
def test_compose_config_validates(tmp_path):
    """The compose CLI itself resolves the file: with every .env value set it passes; with a secret
    missing it refuses to start."""
    example = (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    values = []
    for line in example.splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            values.append(f"{name}={value or 'x' + 'k3J9q' * 8}")
    filled = tmp_path / ".env"
    filled.write_text("\n".join(values) + "\n", encoding="utf-8")
    project = ["--project-directory", str(PROJECT_DIR), "-f", str(COMPOSE_FILE)]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    result = subprocess.run(
        [*_compose_cli(), *project, "--env-file", str(filled), "config", "-q"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    missing = tmp_path / "missing.env"
    missing.write_text("\n".join(v for v in values if not v.startswith("AIRFLOW_JWT_SECRET=")) + "\n", encoding="utf-8")
    result = subprocess.run(
        [*_compose_cli(), *project, "--env-file", str(missing), "config", "-q"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0 and "AIRFLOW_JWT_SECRET" in result.stderr
