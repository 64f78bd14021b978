"""A served collector for tests: ``python -m collector_mock serve`` in its own process group, on loopback.

``ServedCollector`` starts gunicorn on a free port (``--port 0``; the command prints the URL it got), waits
for ``/healthz`` (never a fixed sleep), and stops the whole process group (master and workers) on exit.
``kill()`` sends SIGKILL to the group, as a crash would.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


class ServedCollector:
    """The collector under gunicorn on ``database``, as a context manager."""

    def __init__(
        self, database: Path, token: str, *, workers: int = 2, threads: int = 8, timeout: float = 30
    ) -> None:
        self.database = database
        self.token = token
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.log = database.with_suffix(".serve.log")

    def __enter__(self) -> ServedCollector:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def start(self) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        env = {**os.environ, "COLLECTOR_ADMIN_TOKEN": self.token, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "collector_mock",
                    "serve",
                    "--db",
                    str(self.database),
                    "--port",
                    "0",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # its own process group: master and workers die together
            )
        deadline = time.monotonic() + self.timeout
        assert self.proc.stdout is not None
        while not self.url:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"the collector exited before listening; see {self.log}:\n{self.log.read_text()}"
                )
            found = _URL.search(line)
            if found:
                self.url = found.group(1)
            if time.monotonic() > deadline:
                raise TimeoutError("the collector did not print its URL")
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url}/healthz did not answer")
            time.sleep(0.05)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        admin: bool = False,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a fresh loopback connection: (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            all_headers = dict(headers or {})
            if admin:
                all_headers["Authorization"] = f"Bearer {self.token}"
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def get_json(self, path: str) -> Any:
        """GET an admin API path and decode its JSON (asserting a 200)."""
        status, _, body = self.request("GET", path, admin=True)
        assert status == 200, (status, body[:300])
        return json.loads(body)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crash would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reap()

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left."""
        if self.proc is None or self.proc.poll() is not None:
            self._reap()
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.url = ""
