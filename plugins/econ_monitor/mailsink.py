"""A local SMTP server (aiosmtpd) that keeps every message as an .eml file, for the demo and the tests.

With no ECON_SMTP_HOST configured, `econ-monitor run` starts one so that a person can open exactly
what the leaders would receive.
"""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from pathlib import Path

from aiosmtpd.controller import Controller


class EmlWriter:
    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self._count += 1
            stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
            path = self.directory / f"{stamp}-{self._count:04d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_sink(directory: Path, host: str = "127.0.0.1", port: int | None = None) -> Controller:
    controller = Controller(EmlWriter(directory), hostname=host, port=port or free_port(host))
    controller.start()
    return controller
