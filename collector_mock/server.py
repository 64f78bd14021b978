"""The collector as a real service: the Flask app under gunicorn, loopback by default.

``CollectorServer`` is gunicorn's programmatic ``BaseApplication``: each worker process builds its own app
(``create_app``) after the fork, so no SQLite connection or writer thread crosses a fork. The database's
schema is created once, in the master, before the workers start. The workers are
``collector_mock.worker.IngestWorker``: uploads are answered from an event loop that commits them in
batches, every other request on one of ``threads`` threads.

Containment (DESIGN.md): the testbed must never touch a real network, so ``serve`` binds only to loopback
addresses unless ``public=True`` is asked for explicitly (e.g. inside the container backend's internal
network, where the collector must be reachable from the TVs' containers).
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable, Mapping
from typing import Any

from flask import Config
from gunicorn.app.base import BaseApplication

from .app import create_app
from .store import initialize

__all__ = ["CollectorServer", "env_config", "is_loopback", "served_config"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def env_config(prefix: str = "COLLECTOR") -> dict[str, Any]:
    """``COLLECTOR_*`` environment variables as configuration (values parsed as JSON where they can be)."""
    config = Config(".")
    config.from_prefixed_env(prefix)
    return dict(config)


def served_config(database: str, admin_token: str, *, synchronous: str = "FULL") -> dict[str, Any]:
    """The configuration of a served collector: environment, then what the command line says."""
    return {
        **env_config(),
        "DATABASE": database,
        "ADMIN_TOKEN": admin_token,
        "GROUP_COMMIT": True,
        "SYNCHRONOUS": synchronous,
    }


class CollectorServer(BaseApplication):
    """gunicorn running ``create_app(app_config)`` in every worker."""

    def __init__(
        self,
        app_config: Mapping[str, Any],
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        workers: int = 2,
        threads: int = 16,
        on_ready: Callable[[str], None] | None = None,
    ) -> None:
        self.app_config = dict(app_config)
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.options: dict[str, Any] = {
            "bind": [bind],
            "workers": workers,
            # Uploads on an event loop with batched commits; every other request on a thread
            # (collector_mock/worker.py says why).
            "worker_class": "collector_mock.worker.IngestWorker",
            "threads": threads,
            "keepalive": 5,  # SDKs and load generators reuse connections
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "preload_app": False,
            "proc_name": "tvtestbed-collector",
            # gunicorn >= 24 opens a control socket in ~/.gunicorn by default: one per machine, so two
            # collectors would fight over it, and nothing here needs it.
            "control_socket_disable": True,
            "when_ready": self._when_ready,
        }
        self._on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.app_config)

    def _when_ready(self, arbiter: Any) -> None:
        host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
        url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        if self._on_ready is not None:
            self._on_ready(url)

    def run(self) -> None:
        """Create the schema, then serve until SIGTERM/SIGINT."""
        initialize(self.app_config["DATABASE"])
        sys.stdout.flush()
        super().run()
