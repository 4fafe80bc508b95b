"""The production topology of docker-compose.yml as native processes: `deploy/local-cluster up|down|status`.

Postgres (the warehouse's server also holds Airflow's metadata database `airflow`), Debian's redis-server
as the Celery broker, Airflow's api-server, scheduler, dag-processor and triggerer, and two Celery
workers with distinct hostnames. Every Airflow process reads `deploy/airflow.env`, the file compose reads
(env_file), so what runs here -- and in tests/test_cluster.py -- is compose's configuration; only the
addresses (free local ports instead of service names) and the secrets differ.

Secrets are generated at `up` into <state>/secrets.env (mode 0600), never written in the repository;
secrets passed in the environment are checked and weak ones refused (`check-secrets`, which compose's
airflow-init runs too).

Environment read by this script (anything else set by the caller overrides deploy/airflow.env, as
compose's `environment:` overrides its env_file):
  ECON_CLUSTER_DIR     state: pids, logs, AIRFLOW_HOME, secrets (default .local/cluster)
  ECON_WAREHOUSE_URL   the warehouse; unset: the embedded PostgreSQL under ECON_LOCAL_DIR (as `make demo`)
  ECON_SMTP_HOST/PORT  the mail server (required: leaders' mail goes to a real server)
  ECON_LANDING_DIR     the landing area the schedule polls (default .local/landing)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
AIRFLOW_ENV_FILE = PROJECT_DIR / "deploy" / "airflow.env"
AIRFLOW = [sys.executable, "-m", "airflow"]
WORKERS = ("worker1", "worker2")
# Secrets the Airflow processes and the platform need; each must be the same in every process.
GENERATED_SECRETS = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "ECON_LINK_SECRET")
WEAK_WORDS = ("change", "secret", "password", "admin", "example", "default", "test")
MIN_SECRET_LENGTH = 32


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads an env_file (comments and blank lines skipped, no quoting)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def weak_secret_reason(value: str) -> str | None:
    """Why a secret is too weak to run with, or None. Placeholders like 'change-me' are refused by name."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if any(word in value.lower() for word in WEAK_WORDS):
        return "looks like a placeholder"
    if len(set(value)) < 12:
        return "too few distinct characters"
    return None


def check_secrets(env: dict[str, str], names) -> list[str]:
    """One line per weak or missing secret among `names`."""
    problems = []
    for name in names:
        value = env.get(name)
        if not value:
            problems.append(f"{name} is not set")
        elif reason := weak_secret_reason(value):
            problems.append(f"{name} is weak: {reason}")
    return problems


def write_admin_password(path: Path, password: str) -> None:
    """Airflow's SimpleAuthManager reads its users' passwords from this JSON file (else it generates and
    logs one); both topologies write the deployment's admin password into it, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"admin": password}), encoding="utf-8")


def state_dir() -> Path:
    return Path(os.environ.get("ECON_CLUSTER_DIR", PROJECT_DIR / ".local" / "cluster")).resolve()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_hostname() -> str:
    """Airflow's `[core] hostname_callable` for the native workers. In compose every worker container has
    its own hostname; two workers on one machine would share it, so each says which worker it is."""
    return os.environ.get("ECON_CLUSTER_HOSTNAME") or socket.getfqdn()


def _sqlalchemy_url(libpq_url: str, database: str, driver: str = "postgresql+psycopg2") -> str:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(libpq_url)
    host = str(params.get("host") or "localhost")
    query = {"host": host} if host.startswith("/") else {}
    url = URL.create(
        driver,
        username=params.get("user"),
        password=params.get("password") or None,
        host=None if query else host,
        port=int(params["port"]) if params.get("port") and not query else None,
        database=database,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def _warehouse_url(env: dict[str, str]) -> tuple[str, bool]:
    """(warehouse URL, whether this script started the embedded server)."""
    if env.get("ECON_WAREHOUSE_URL"):
        return env["ECON_WAREHOUSE_URL"], False
    sys.path.insert(0, str(PROJECT_DIR / "plugins"))
    from econ_monitor.settings import load_settings
    from econ_monitor.warehouse import warehouse_url

    return warehouse_url(load_settings()), True


def _ensure_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _secrets(state: Path, env: dict[str, str]) -> dict[str, str]:
    """The secrets of this cluster: given ones (checked), else generated once and kept in secrets.env."""
    path = state / "secrets.env"
    kept = read_env_file(path) if path.exists() else {}
    values = {}
    for name in (*GENERATED_SECRETS, "ECON_CLUSTER_REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD"):
        values[name] = env.get(name) or kept.get(name) or secrets.token_urlsafe(48)
    problems = check_secrets(values, values)
    if problems:
        raise SystemExit("refusing to start: " + "; ".join(problems))
    if not path.exists() or kept != values:
        path.touch(mode=0o600)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    return values


def _environment(state: Path) -> tuple[dict[str, str], dict]:
    """The environment of every Airflow process, and what `down` must know."""
    caller = dict(os.environ)
    if not caller.get("ECON_SMTP_HOST"):
        raise SystemExit("refusing to start: set ECON_SMTP_HOST (and ECON_SMTP_PORT) to the mail server")
    secret_values = _secrets(state, caller)
    warehouse, started_embedded = _warehouse_url(caller)
    _ensure_database(warehouse, "airflow")
    ports = {"api": free_port(), "redis": free_port(), "scheduler_health": free_port()}
    home = state / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "passwords.json"
    write_admin_password(passwords, secret_values["AIRFLOW_ADMIN_PASSWORD"])
    metadata = _sqlalchemy_url(warehouse, "airflow")
    redis_auth = secret_values["ECON_CLUSTER_REDIS_PASSWORD"]
    landing = Path(caller.get("ECON_LANDING_DIR") or PROJECT_DIR / ".local" / "landing")
    landing.mkdir(parents=True, exist_ok=True)
    # The same names compose sets under `environment:` (tests/test_compose.py checks that), with local
    # addresses; then the shared file; then whatever the caller set explicitly.
    topology = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://:{redis_auth}@127.0.0.1:{ports['redis']}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports['api']}/execution/",
        "AIRFLOW__API__PORT": str(ports["api"]),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(ports["scheduler_health"]),
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_values["AIRFLOW__API_AUTH__JWT_SECRET"],
        "AIRFLOW__API__SECRET_KEY": secret_values["AIRFLOW__API__SECRET_KEY"],
        "AIRFLOW__COSMOS__CACHE_DIR": str(state / "cosmos"),
        "ECON_PROJECT_DIR": str(PROJECT_DIR),
        "ECON_LOCAL_DIR": caller.get("ECON_LOCAL_DIR") or str(PROJECT_DIR / ".local"),
        "ECON_LANDING_DIR": str(landing),
        "ECON_WAREHOUSE_URL": warehouse,
        "ECON_LINK_SECRET": secret_values["ECON_LINK_SECRET"],
        "ECON_LINK_BASE_URL": caller.get("ECON_LINK_BASE_URL") or f"http://127.0.0.1:{ports['api']}/econ-monitor",
    }
    shared = read_env_file(AIRFLOW_ENV_FILE)
    explicit = {
        k: v for k, v in caller.items() if k in shared or k.startswith(("AIRFLOW__", "ECON_SMTP_", "ECON_DELIVERY_"))
    }
    env = {**caller, **topology, **shared, **explicit}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR / "plugins"), caller.get("PYTHONPATH")]))
    return env, {
        "ports": ports,
        "started_embedded": started_embedded,
        "landing": str(landing),
        "warehouse": warehouse,
        "redis_password": redis_auth,
    }


def _spawn(name: str, command: list[str], env: dict[str, str], logs: Path, cwd: Path | None = None) -> int:
    # Its own process group: `down` (or a test killing "a worker") ends the component and what it forked.
    process = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=(logs / f"{name}.log").open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process.pid


def _wait_for(what: str, check, timeout: float, logs: Path, pids: dict[str, int]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        dead = [name for name, pid in pids.items() if not _running(pid)]
        if dead:
            what = f"{what} (exited: {', '.join(dead)})"
            break
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(logs.glob("*.log")))
    raise SystemExit(f"{what} did not come up\n{tails}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def up() -> dict:
    state = state_dir()
    if (state / "cluster.json").exists():
        raise SystemExit(f"already running (state in {state}); `deploy/local-cluster down` first")
    redis_server = shutil.which("redis-server")
    if not redis_server:
        raise SystemExit("redis-server is missing: `apt-get install redis-server` (make system-deps does it as root)")
    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env, info = _environment(state)
    redis_conf = state / "redis.conf"
    redis_conf.touch(mode=0o600)
    redis_conf.write_text(
        f"port {info['ports']['redis']}\nbind 127.0.0.1\nrequirepass {info['redis_password']}\n"
        f'dir {state}\nsave ""\nappendonly no\n',
        encoding="utf-8",
    )
    pids = {"redis": _spawn("redis", [redis_server, str(redis_conf)], env, logs)}
    info.pop("redis_password")
    cluster = {"pids": pids, **info}
    (state / "cluster.json").write_text(json.dumps(cluster, indent=2), encoding="utf-8")
    try:
        subprocess.run(
            [*AIRFLOW, "db", "migrate"],
            env=env,
            check=True,
            stdout=(logs / "db-migrate.log").open("ab"),
            stderr=subprocess.STDOUT,
            timeout=600,
        )
        # The API server first: the workers' tasks report to it from their first second.
        pids["api-server"] = _spawn("api-server", [*AIRFLOW, "api-server"], env, logs)
        api = f"http://127.0.0.1:{info['ports']['api']}"
        _wait_for("the api-server", lambda: _http_ok(f"{api}/api/v2/monitor/health"), 300, logs, pids)
        for component in ("scheduler", "dag-processor", "triggerer"):
            pids[component] = _spawn(component, [*AIRFLOW, component], env, logs)
        for worker in WORKERS:
            worker_env = {
                **env,
                "ECON_CLUSTER_HOSTNAME": worker,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "local_cluster.worker_hostname",
                "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR / "deploy"), env["PYTHONPATH"]]),
            }
            pids[worker] = _spawn(
                worker,
                [*AIRFLOW, "celery", "worker", "--celery-hostname", f"{worker}@%h", "--skip-serve-logs"],
                worker_env,
                logs,
            )
        (state / "cluster.json").write_text(json.dumps(cluster, indent=2), encoding="utf-8")
        for worker in WORKERS:
            log = logs / f"{worker}.log"
            _wait_for(worker, lambda log=log: b" ready." in log.read_bytes(), 300, logs, pids)
    except BaseException:
        down()
        raise
    cluster["api_url"] = api
    (state / "cluster.json").write_text(json.dumps(cluster, indent=2), encoding="utf-8")
    return cluster


def _running(pid: int) -> bool:
    """Whether the process itself still runs (a child of ours that exited is a zombie until reaped)."""
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def down() -> None:
    state = state_dir()
    path = state / "cluster.json"
    if not path.exists():
        print("not running")
        return
    cluster = json.loads(path.read_text(encoding="utf-8"))
    pids = list(cluster["pids"].values())[::-1]  # workers first, redis last
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.5)
    for pid in pids:
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    for pid in pids:  # reap the children of this process (when `up` ran in it)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    if cluster.get("started_embedded"):
        sys.path.insert(0, str(PROJECT_DIR / "plugins"))
        from econ_monitor.warehouse import stop_embedded

        stop_embedded()
    path.unlink()


def status() -> int:
    path = state_dir() / "cluster.json"
    if not path.exists():
        print("not running")
        return 1
    cluster = json.loads(path.read_text(encoding="utf-8"))
    for name, pid in cluster["pids"].items():
        print(f"{name:14} pid {pid:<8} {'running' if _alive(pid) else 'DEAD'}")
    print(f"api: {cluster.get('api_url')}  landing: {cluster['landing']}  logs: {state_dir() / 'logs'}")
    return 0 if all(_alive(pid) for pid in cluster["pids"].values()) else 1


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "up":
        cluster = up()
        print(
            f"up: api {cluster['api_url']} (user admin, password in {state_dir() / 'secrets.env'}), "
            f"landing {cluster['landing']}, logs {state_dir() / 'logs'}"
        )
        return 0
    if command == "down":
        down()
        return 0
    if command == "status":
        return status()
    if command == "check-secrets":
        # compose's airflow-init: the secrets from .env, checked before anything starts.
        names = argv[2:] or GENERATED_SECRETS
        problems = check_secrets(dict(os.environ), names)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if command == "admin-password" and len(argv) == 3:
        # compose's airflow-init: AIRFLOW_ADMIN_PASSWORD from .env into the passwords file.
        write_admin_password(Path(argv[2]), os.environ["AIRFLOW_ADMIN_PASSWORD"])
        return 0
    print("usage: deploy/local-cluster up|down|status|check-secrets [NAME...]|admin-password FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
