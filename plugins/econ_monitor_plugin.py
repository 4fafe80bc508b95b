"""Airflow plugin: mounts the claim/close app (econ_monitor.web) in Airflow 3's API server at
/econ-monitor, so the links in the leaders' mails work wherever Airflow's web address is reachable.

With unusable link settings (ECON_LINK_SECRET missing, short or a placeholder; ECON_LINK_BASE_URL
relative) the plugin refuses to load: `on_load` raises SettingsError, which Airflow records as the
plugin's import error (shown in the UI and by `airflow plugins`), and the rest of Airflow runs on.
"""

from airflow.plugins_manager import AirflowPlugin


class EconMonitorPlugin(AirflowPlugin):
    name = "econ_monitor"

    @classmethod
    def on_load(cls, *args, **kwargs):
        from econ_monitor.settings import load_settings

        load_settings().check_links()

    @property
    def fastapi_apps(self):  # built lazily: only the API server needs the app
        from econ_monitor.web import create_app

        return [{"app": create_app(), "url_prefix": "/econ-monitor", "name": "Alert claim and close (领任务/销号)"}]
