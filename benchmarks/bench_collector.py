"""Collector ingest under load: reports/s and latency, gunicorn against the Flask dev server.

Each measurement starts a collector on a fresh database, loads it for ``DURATION`` seconds from a client
process on the same machine over loopback (``wrk`` with keep-alive connections when it is installed,
otherwise a Python load generator), stops it, and counts the rows: every 2xx must be a committed report
(rows >= 2xx; a few more rows are requests that were still in flight when the client stopped).

Servers: ``tvtestbed collector serve`` (gunicorn, 2 gthread workers, group commit, synchronous=FULL, and
synchronous=NORMAL for comparison) and the Flask development server (threaded) on the same app.
Reports: the 12-device, 10-network report of the tests, in JSON and in gzip+aes, each request from a
different household (a pool of distinct bodies), so that every report updates its own profile rows.

The machine's load is printed with the numbers: other work on it takes CPU from the server.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DURATION = 10  # seconds per measurement
CONNECTIONS = 48
BODIES = 512  # distinct reports (households) the load cycles through
TOKEN = "bench-admin-token-000"

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
    """A collector process group on loopback, ready once /healthz answers."""

    def __init__(self, kind: str, db: Path, synchronous: str) -> None:
        self.kind, self.db, self.synchronous = kind, db, synchronous
        self.port = _free_port()
        env = {**os.environ, "COLLECTOR_ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        if kind == "gunicorn":
            cmd = [
                sys.executable,
                "-m",
                "collector_mock",
                "serve",
                "--db",
                str(db),
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--threads",
                "16",
                "--synchronous",
                synchronous.lower(),
            ]
        else:
            code = (
                "from collector_mock import create_app; import sys; "
                "create_app({'DATABASE': sys.argv[1], 'ADMIN_TOKEN': 'x' * 16, 'GROUP_COMMIT': True, "
                f"'SYNCHRONOUS': '{synchronous}'}}).run(host='127.0.0.1', port={self.port}, threaded=True)"
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
                raise RuntimeError(f"{kind} did not start")
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


def _python_load(port: int, bodies: list[bytes], encoding: str) -> dict[str, float]:
    """The fallback load generator: threads with keep-alive connections (slower than wrk)."""
    stop = time.monotonic() + DURATION
    latencies: list[float] = []
    counts = {"requests": 0, "non2xx": 0, "errors": 0}
    lock = threading.Lock()
    headers = {
        "Content-Type": "application/json" if encoding == "json" else "application/octet-stream",
        "X-Payload-Encoding": encoding,
    }

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        n = bad = err = 0
        i = k
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/report", bodies[i % len(bodies)], headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                err += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - t)
            n += 1
            bad += not 200 <= response.status < 300
            i += CONNECTIONS
        with lock:
            latencies.extend(mine)
            counts["requests"] += n
            counts["non2xx"] += bad
            counts["errors"] += err

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        **counts,
        "seconds": time.monotonic() - started,
        "ok": counts["requests"] - counts["non2xx"],
        "p50": latencies[len(latencies) // 2] * 1e3 if latencies else 0.0,
        "p99": latencies[int(len(latencies) * 0.99)] * 1e3 if latencies else 0.0,
    }


def _measure(
    kind: str,
    synchronous: str,
    encoding: str,
    bodies_dir: Path,
    bodies: list[bytes],
    script: Path | None,
    work: Path,
) -> dict[str, Any]:
    db = work / f"{kind}-{synchronous}-{encoding.replace('+', '-')}.sqlite"
    server = _Server(kind, db, synchronous)
    try:
        cpu0 = server.cpu_seconds()
        result = (
            _wrk(server.port, bodies_dir, encoding, script)
            if script
            else _python_load(server.port, bodies, encoding)
        )
        result["server_cpu_us"] = (server.cpu_seconds() - cpu0) / max(result["requests"], 1) * 1e6
    finally:
        server.stop()
    conn = sqlite3.connect(db)
    result["rows"] = conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    conn.close()
    result["rate"] = result["ok"] / result["seconds"]
    return result


def main(argv: list[str] | None = None) -> None:
    """Measure and print; no asserts (benchmarks report, they do not judge)."""
    import argparse

    global DURATION, CONNECTIONS
    parser = argparse.ArgumentParser(prog="bench_collector", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=DURATION, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="client connections")
    args = parser.parse_args(argv or [])
    DURATION, CONNECTIONS = args.duration, args.connections
    sys.path.insert(0, str(ROOT))
    wrk = shutil.which("wrk")
    load = os.getloadavg()
    print(
        f"collector ingest: {DURATION} s per measurement, {CONNECTIONS} keep-alive connections, "
        f"load generator: {'wrk' if wrk else 'Python threads (apt-get install wrk for a lighter client)'}"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        work = Path(tmp)
        script = None
        if wrk:
            script = work / "report.lua"
            script.write_text(_WRK_SCRIPT)
        print(
            f"\n{'server':<30} {'encoding':<9} {'reports/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'2xx':>7} {'rows':>7} {'non-2xx':>7} {'CPU us/req':>10}"
        )
        for encoding in ("json", "gzip+aes"):
            bodies_dir = work / encoding.replace("+", "-")
            bodies = _write_bodies(bodies_dir, encoding)
            for kind, synchronous, label in (
                ("gunicorn", "FULL", "gunicorn 2x gthread, FULL"),
                ("gunicorn", "NORMAL", "gunicorn 2x gthread, NORMAL"),
                ("flask-dev", "FULL", "Flask dev server, FULL"),
            ):
                r = _measure(kind, synchronous, encoding, bodies_dir, bodies, script, work)
                committed = "ok" if r["rows"] >= r["ok"] else "LOST"
                print(
                    f"{label:<30} {encoding:<9} {r['rate']:>10,.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                    f"{r['ok']:>7} {r['rows']:>7} {r['non2xx'] + r['errors']:>7} {r['server_cpu_us']:>10,.0f}"
                    f"  every 2xx committed: {committed}",
                    flush=True,
                )
    load = os.getloadavg()
    print(
        f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other processes on the machine take CPU from the server and the client)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
