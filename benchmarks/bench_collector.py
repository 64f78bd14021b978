"""Collector ingest under load: reports/s and latency, gunicorn beside the Flask dev server.

Each measurement starts a server on a fresh database, loads it for ``DURATION`` seconds from a client on
the same machine over loopback (``wrk`` with keep-alive connections when it is installed, otherwise a
Python load generator: one process per CPU, each driving its share of the connections from one event
loop over raw sockets), stops it, and counts the rows: every 2xx must be a committed report (rows >= 2xx;
a few more rows are requests that were still in flight when the client stopped).

Rows, all measured in this run on the same machine:

- the ceiling: a trivial WSGI handler (reads the body, answers 200) under gunicorn, 2 gthread workers;
- ``tvtestbed collector serve``: gunicorn, 2 ``collector_mock.worker.IngestWorker`` workers (uploads on
  an event loop, committed in batches before they are answered), synchronous=FULL (the default) and
  NORMAL;
- the same app under gunicorn's stock worker (2 gthread workers, group-commit writer thread:
  ``gunicorn -k gthread collector_mock.wsgi:app``, as the container backend runs it), synchronous=FULL;
- the Flask development server (threaded) on the same app, synchronous=FULL.

Reports: the 12-device, 10-network report of the tests, in JSON and in gzip+aes, each request from a
different household (a pool of distinct bodies), so that every report updates its own profile rows.
Server and client CPU per request are printed beside the rates: on a 2-core machine the client takes CPU
from the server, and so does any other work on it, whose load average is printed with each row.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DURATION = 10  # seconds per measurement
CONNECTIONS = 48
BODIES = 512  # distinct reports (households) the load cycles through
TOKEN = "bench-admin-token-000"
TARGET = 3000  # reports/s the collector must take (issue 3)

_WRK_SCRIPT = r"""
local bodies, n, i = {}, 0, 0
local dir, encoding = os.getenv("BENCH_BODIES"), os.getenv("BENCH_ENCODING")
while true do
  local f = io.open(string.format("%s/%04d.bin", dir, n), "rb")
  if not f then break end
  n = n + 1; bodies[n] = f:read("*a"); f:close()
end
local headers = {["Content-Type"] = "application/octet-stream", ["X-Payload-Encoding"] = encoding}
if encoding == "json" then headers["Content-Type"] = "application/json" end
request = function()
  i = i % n + 1
  return wrk.format("POST", "/api/v1/report", headers, bodies[i])
end
done = function(summary, latency, requests)
  local s = summary
  io.write(string.format('BENCH {"requests": %d, "non2xx": %d, "errors": %d, "seconds": %f, "p50": %f, "p99": %f}\n',
    s.requests, s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    s.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


# gunicorn with stock workers, configured in code: only the settings this gunicorn knows are set (the
# control socket exists only in recent versions), as collector_mock.server does.
_GUNICORN = """
import sys
from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app

class Bench(BaseApplication):
    def load_config(self):
        options = {"bind": [sys.argv[2]], "workers": 2, "worker_class": "gthread", "threads": 16,
                   "keepalive": 5, "loglevel": "warning", "control_socket_disable": True}
        for key, value in options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self):
        return import_app(sys.argv[1])

Bench().run()
"""


def trivial_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The ceiling: read the body, answer a constant 200 (what gunicorn alone costs per request)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    body = b'{"status":"ok"}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


@dataclass(frozen=True)
class Setup:
    """One server configuration of the table."""

    label: str
    kind: str  # "serve" (tvtestbed collector serve), "gthread" (stock gunicorn), "flask-dev", "trivial"
    synchronous: str = "FULL"


SETUPS = (
    Setup("collector serve, FULL", "serve"),
    Setup("collector serve, NORMAL", "serve", "NORMAL"),
    Setup("gunicorn gthread, FULL", "gthread"),
    Setup("Flask dev server, FULL", "flask-dev"),
)
CEILING = Setup("trivial WSGI, gthread", "trivial")


def _report(i: int) -> dict[str, Any]:
    """A report like the tests' sample (12 hosts, 10 networks) from household ``b{i}``."""
    rng = random.Random(i)
    home = f"b{i:05d}"

    def mac() -> str:
        return "3c:22:fb:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))

    return {
        "schema": "gozen/1",
        "sdk": {"name": "gozen", "version": "2.3.7"},
        "tv": {
            "id": f"{home}-tv1",
            "home": home,
            "vendor": "Skyworth",
            "model": "55Q71",
            "mac": mac(),
            "ip": "192.168.1.23",
        },
        "cycle": i,
        "collected_at": 1619179200.0 + i,
        "consent": "not_asked",
        "hosts": [
            {
                "ip": f"192.168.1.{10 + k}",
                "mac": mac(),
                "hostname": None if k % 4 == 3 else f"device-{k}",
                "rtt_ms": None if k % 5 == 4 else round(1.5 + k * 0.7, 2),
            }
            for k in range(12)
        ],
        "wifi": [
            {
                "ssid": f"ChinaNet-{rng.randrange(10**4):04d}",
                "bssid": mac(),
                "rssi": -40 - 3 * k,
                "channel": 1 + k,
            }
            for k in range(10)
        ],
    }


def _write_bodies(directory: Path, encoding: str) -> list[bytes]:
    from collector_mock import encode
    from collector_mock.app import DEFAULT_CONFIG

    directory.mkdir(parents=True, exist_ok=True)
    key = DEFAULT_CONFIG["AES_KEYS"]["gozen"]
    bodies = []
    for i in range(BODIES):
        body = encode(json.dumps(_report(i)).encode(), encoding, key=key, iv=bytes(16))
        (directory / f"{i:04d}.bin").write_bytes(body)
        bodies.append(body)
    return bodies


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """A server process group on loopback, ready once /healthz (or, for the trivial app, /) answers."""

    def __init__(self, setup: Setup, db: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "COLLECTOR_ADMIN_TOKEN": TOKEN,
            "COLLECTOR_DATABASE": str(db),
            "COLLECTOR_SYNCHRONOUS": setup.synchronous,
        }
        bind = f"127.0.0.1:{self.port}"
        if setup.kind == "serve":
            cmd = [sys.executable, "-m", "collector_mock", "serve", "--db", str(db), "--port", str(self.port)]
            cmd += ["--workers", "2", "--threads", "16", "--synchronous", setup.synchronous.lower()]
        elif setup.kind == "gthread":
            cmd = [sys.executable, "-c", _GUNICORN, "collector_mock.wsgi:app", bind]
        elif setup.kind == "trivial":
            cmd = [sys.executable, "-c", _GUNICORN, "benchmarks.bench_collector:trivial_app", bind]
        else:
            code = (
                "from collector_mock import create_app; import sys; "
                "create_app({'DATABASE': sys.argv[1], 'ADMIN_TOKEN': 'x' * 16, 'GROUP_COMMIT': True, "
                f"'SYNCHRONOUS': '{setup.synchronous}'}}).run(host='127.0.0.1', port={self.port}, threaded=True)"
            )
            cmd = [sys.executable, "-c", code, str(db)]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{setup.label} did not start")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's process group (master and workers)."""
        total = 0.0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError):
                pass
        return total

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)  # graceful: in-flight requests finish and commit
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wrk(port: int, bodies_dir: Path, encoding: str, script: Path) -> dict[str, float]:
    env = {**os.environ, "BENCH_BODIES": str(bodies_dir), "BENCH_ENCODING": encoding}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{DURATION}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/report",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    found = re.search(r"BENCH (\{.*\})", out)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    result = json.loads(found.group(1))
    result["ok"] = result["requests"] - result["non2xx"]
    return result


def _requests(port: int, bodies: list[bytes], encoding: str) -> list[bytes]:
    """Each body as a whole HTTP/1.1 request, ready to send."""
    content_type = "application/json" if encoding == "json" else "application/octet-stream"
    return [
        (
            f"POST /api/v1/report HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
            f"X-Payload-Encoding: {encoding}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]


def _load_process(port: int, requests: list[bytes], connections: int, first: int, out: Any) -> None:
    """One client process: ``connections`` keep-alive connections driven from one event loop.

    Each connection sends a request, reads the whole answer (status line, headers, Content-Length bytes),
    and sends the next one. Results go to ``out``: counts and every latency in seconds.
    """
    stop = time.monotonic() + DURATION
    poller = selectors.DefaultSelector()
    latencies: list[float] = []
    counts = {"requests": 0, "non2xx": 0, "errors": 0}
    state: dict[socket.socket, list[Any]] = {}  # socket -> [received bytes, sent at, next request index]

    def send(sock: socket.socket, index: int) -> None:
        state[sock] = [b"", time.perf_counter(), index + connections]
        sock.sendall(requests[index % len(requests)])

    def connect(index: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        poller.register(sock, selectors.EVENT_READ)
        send(sock, index)

    def reconnect(sock: socket.socket, index: int) -> None:
        poller.unregister(sock)
        del state[sock]
        sock.close()
        if time.monotonic() < stop:
            connect(index)

    for k in range(connections):
        connect(first + k)
    while state and time.monotonic() < stop:
        for key, _ in poller.select(timeout=1.0):
            sock = key.fileobj
            buffered, sent_at, index = state[sock]
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                counts["errors"] += 1
                reconnect(sock, index)
                continue
            buffered += data
            end = buffered.find(b"\r\n\r\n")
            found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", buffered[:end]) if end >= 0 else None
            if found is None or len(buffered) < end + 4 + int(found.group(1)):
                state[sock][0] = buffered  # not all of the answer yet
                continue
            latencies.append(time.perf_counter() - sent_at)
            counts["requests"] += 1
            counts["non2xx"] += not buffered.startswith(b"HTTP/1.1 2")
            if re.search(rb"(?i)\r\nconnection: *close", buffered[:end]):
                reconnect(sock, index)
            elif time.monotonic() < stop:
                send(sock, index)
    for sock in state:
        sock.close()
    out.send((counts, latencies))
    out.close()


def _python_load(port: int, bodies: list[bytes], encoding: str) -> dict[str, float]:
    """The fallback load generator: one process per CPU, each an event loop over its connections."""
    requests = _requests(port, bodies, encoding)
    context = multiprocessing.get_context("fork")
    processes = max(1, min(os.cpu_count() or 1, CONNECTIONS))
    clients = []
    started = time.monotonic()
    for p in range(processes):
        receive, send = context.Pipe(duplex=False)
        share = CONNECTIONS // processes + (p < CONNECTIONS % processes)
        proc = context.Process(
            target=_load_process, args=(port, requests, share, p * BODIES // processes, send)
        )
        proc.start()
        send.close()
        clients.append((proc, receive))
    counts = {"requests": 0, "non2xx": 0, "errors": 0}
    latencies: list[float] = []
    for proc, receive in clients:
        mine, lat = receive.recv()
        proc.join()
        latencies += lat
        for name in counts:
            counts[name] += mine[name]
    latencies.sort()
    return {
        **counts,
        "seconds": time.monotonic() - started,
        "ok": counts["requests"] - counts["non2xx"],
        "p50": latencies[len(latencies) // 2] * 1e3 if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99)] * 1e3 if latencies else 0.0,
    }


def _client_cpu_seconds() -> float:
    """CPU time of this process's finished children (wrk, or the load processes) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(
    setup: Setup, encoding: str, bodies_dir: Path, bodies: list[bytes], script: Path | None, work: Path
) -> dict[str, Any]:
    db = work / f"{setup.kind}-{setup.synchronous}-{encoding.replace('+', '-')}.sqlite"
    load = os.getloadavg()[0]
    server = _Server(setup, db)
    try:
        cpu0, client0 = server.cpu_seconds(), _client_cpu_seconds()
        result = (
            _wrk(server.port, bodies_dir, encoding, script)
            if script
            else _python_load(server.port, bodies, encoding)
        )
        requests = max(result["requests"], 1)
        result["server_cpu_us"] = (server.cpu_seconds() - cpu0) / requests * 1e6
        result["client_cpu_us"] = (_client_cpu_seconds() - client0) / requests * 1e6
    finally:
        server.stop()
    result["rows"] = None
    if setup.kind != "trivial":
        conn = sqlite3.connect(db)
        result["rows"] = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
        conn.close()
    result["rate"] = result["ok"] / result["seconds"]
    result["load"] = load
    return result


def _row(label: str, encoding: str, r: dict[str, Any]) -> str:
    if r["rows"] is None:
        committed, rows = "(stores nothing)", "-"
    else:
        committed = "every 2xx committed: " + ("ok" if r["rows"] >= r["ok"] else "LOST")
        rows = f"{r['rows']:,}"
    return (
        f"{label:<26} {encoding:<9} {r['rate']:>9,.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['ok']:>7,} {rows:>7} "
        f"{r['non2xx'] + r['errors']:>7} {r['server_cpu_us']:>7,.0f} {r['client_cpu_us']:>7,.0f} {r['load']:>5.2f}  "
        + committed
    )


def main(argv: list[str] | None = None) -> None:
    """Measure and print; no asserts (benchmarks report, they do not judge)."""
    import argparse

    global DURATION, CONNECTIONS
    parser = argparse.ArgumentParser(prog="bench_collector", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=DURATION, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="client connections")
    parser.add_argument(
        "--python-client", action="store_true", help="use the Python load generator even with wrk"
    )
    args = parser.parse_args(argv or [])
    DURATION, CONNECTIONS = args.duration, args.connections
    sys.path.insert(0, str(ROOT))
    wrk = shutil.which("wrk") and not args.python_client
    load = os.getloadavg()
    client = (
        "wrk, 2 threads"
        if wrk
        else f"Python, {os.cpu_count()} processes (apt-get install wrk for a lighter client)"
    )
    print(
        f"collector ingest: {DURATION} s per measurement, {CONNECTIONS} keep-alive connections, load generator: {client}"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    results: dict[tuple[str, str], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        work = Path(tmp)
        script = None
        if wrk:
            script = work / "report.lua"
            script.write_text(_WRK_SCRIPT)
        print(
            f"\n{'server (gunicorn: 2 workers)':<26} {'encoding':<9} {'reports/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'2xx':>7} {'rows':>7} {'non-2xx':>7} {'srv us':>7} {'cli us':>7} {'load':>5}"
        )
        for encoding in ("json", "gzip+aes"):
            bodies_dir = work / encoding.replace("+", "-")
            bodies = _write_bodies(bodies_dir, encoding)
            setups = (CEILING, *SETUPS) if encoding == "json" else SETUPS
            for setup in setups:
                r = _measure(setup, encoding, bodies_dir, bodies, script, work)
                results[(setup.label, encoding)] = r
                print(_row(setup.label, encoding, r), flush=True)
    print(
        "\nsrv us / cli us: CPU per request of the server (all its processes) and of the load generator; "
        "load: 1-minute load average when the row started."
    )
    ceiling = results[(CEILING.label, "json")]["rate"]
    for encoding in ("json", "gzip+aes"):
        serve = results[("collector serve, FULL", encoding)]["rate"]
        flask = results[("Flask dev server, FULL", encoding)]["rate"]
        gthread = results[("gunicorn gthread, FULL", encoding)]["rate"]
        print(
            f"{encoding}: collector serve (FULL) {serve:,.0f} reports/s = {serve / max(flask, 1):.1f}x the Flask "
            f"dev server, {serve / max(gthread, 1):.1f}x gunicorn gthread, {serve / max(ceiling, 1):.0%} of the "
            f"trivial-handler ceiling; target {TARGET:,}/s: {'met' if serve >= TARGET else 'not met'} in this run"
        )
    load = os.getloadavg()
    print(
        f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other processes on the machine take CPU from the server and the client)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
