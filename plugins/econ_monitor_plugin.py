"""Airflow plugin: mounts the claim/close app (econ_monitor.web) in Airflow 3's API server at
/econ-monitor, so the links in the leaders' mails work wherever Airflow's web address is reachable."""

from airflow.plugins_manager import AirflowPlugin


class EconMonitorPlugin(AirflowPlugin):
    name = "econ_monitor"

    @property
    def fastapi_apps(self):  # imported lazily: only the API server needs the app
        from econ_monitor.web import app

        return [{"app": app, "url_prefix": "/econ-monitor", "name": "Alert claim and close (领任务/销号)"}]
