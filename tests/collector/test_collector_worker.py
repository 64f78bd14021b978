"""The served collector's worker: the upload fast path answers as the Flask app does, keeps connections
alive, answers pipelined uploads in order, waits for bodies sent in pieces, leaves everything else to
gunicorn's own request handling, and stops gracefully under load. (That every 2xx survives a SIGKILL is
test_collector_durability's.)"""

from __future__ import annotations

import http.client
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from collector_mock import encode
from collector_mock.app import INGEST_HEADERS
from collector_mock.worker import UploadHead, parse_head
from tests.collector.conftest import ADMIN_TOKEN, BASE_REPORT, IV, KEY
from tests.collector.serving import ServedCollector

LIMIT = 1024 * 1024


def _request(body: bytes, *headers: str, target: str = "/api/v1/report", method: str = "POST") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _report(home: str, cycle: int = 1) -> bytes:
    report = json.loads(json.dumps(BASE_REPORT))
    report["tv"] = dict(report["tv"], home=home, id=f"{home}-tv1")
    report["cycle"] = cycle
    return json.dumps(report).encode()


# -- the head parser ------------------------------------------------------------------------------


def test_parse_head_takes_an_upload() -> None:
    data = _request(b"abc", "Content-Type: Application/JSON; charset=utf-8", "X-Payload-Encoding: gzip+aes")
    head = parse_head(data + b"POST /next", LIMIT)
    assert head == UploadHead(
        size=len(data) - 3, length=3, mimetype="application/json", encoding="gzip+aes", close=False
    )
    assert parse_head(_request(b"", "Connection: close"), LIMIT) == UploadHead(
        size=len(_request(b"", "Connection: close")), length=0, mimetype="", encoding=None, close=True
    )
    # The head is enough: the body may still be on its way.
    assert parse_head(data[:-2], LIMIT) is not None


@pytest.mark.parametrize(
    "data",
    [
        _request(b"{}", target="/api/v1/report?x=1"),
        _request(b"{}", target="/api/v1/reports"),
        _request(b"", method="GET"),
        _request(b"{}").replace(b"HTTP/1.1", b"HTTP/1.0", 1),
        _request(b"{}", "Transfer-Encoding: chunked"),
        _request(b"{}", "Expect: 100-continue"),
        _request(b"{}", "Content-Length: 2"),  # repeated
        _request(b"{}", "Content-Type: a", "content-type: b"),  # repeated, in another case
        _request(b"{}", "Connection: upgrade"),
        _request(b"{}", "X_Payload_Encoding: gzip"),  # gunicorn drops such headers; it decides
        _request(b"{}", "Bad Name: x"),
        _request(b"{}", " folded: x"),
        _request(b"{}", "X-Thing: a\x00b"),
        b"POST /api/v1/report HTTP/1.1\r\nHost: x\r\n\r\n",  # no Content-Length
        b"POST /api/v1/report HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}",
        b"POST /api/v1/report HTTP/1.1\r\nContent-Length: 2\r\n",  # the head is not complete
        _request(b"x" * (LIMIT + 1)),  # over the limit: gunicorn and the app answer 413
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
    ],
)
def test_parse_head_leaves_the_rest_to_gunicorn(data: bytes) -> None:
    assert parse_head(data, LIMIT) is None


# -- served ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedCollector]:
    with ServedCollector(tmp_path_factory.mktemp("worker") / "c.sqlite", ADMIN_TOKEN) as server:
        yield server


def _connect(server: ServedCollector) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_answer(sock: socket.socket, buffered: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer from ``sock`` (what follows it stays in ``buffered``)."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed before an answer"
        buffered += chunk
    end = buffered.index(b"\r\n\r\n")
    lines = bytes(buffered[:end]).decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    total = end + 4 + int(headers["content-length"])
    while len(buffered) < total:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed within an answer"
        buffered += chunk
    body = bytes(buffered[end + 4 : total])
    del buffered[:total]
    return int(lines[0].split()[1]), headers, body


def _stored(server: ServedCollector, report_id: int) -> tuple[str, int] | None:
    conn = sqlite3.connect(server.database)
    try:
        return conn.execute("SELECT home, cycle FROM reports WHERE id = ?", (report_id,)).fetchone()
    finally:
        conn.close()


def _is_closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.slow
def test_pipelined_uploads_are_answered_in_order_on_one_connection(served: ServedCollector) -> None:
    headers = "Content-Type: application/json"
    with _connect(served) as sock:
        sock.sendall(b"".join(_request(_report("w-pipe", cycle), headers) for cycle in range(1, 6)))
        buffered = bytearray()
        answers = [_read_answer(sock, buffered) for _ in range(5)]
        # ... and the connection is still open for the next one.
        sock.sendall(_request(_report("w-pipe", 6), headers))
        answers.append(_read_answer(sock, buffered))
    assert [status for status, _, _ in answers] == [200] * 6
    assert all("connection" not in h for _, h, _ in answers)
    ids = [int(h["x-report-id"]) for _, h, _ in answers]
    assert ids == sorted(set(ids))
    assert [_stored(served, i) for i in ids] == [("w-pipe", cycle) for cycle in range(1, 7)]


@pytest.mark.slow
def test_a_body_sent_in_pieces_is_waited_for(served: ServedCollector) -> None:
    request = _request(_report("w-pieces"), "Content-Type: application/json")
    split = request.index(b"\r\n\r\n") + 4 + 100
    with _connect(served) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request[:split])
        time.sleep(0.3)
        sock.sendall(request[split:])
        status, headers, _ = _read_answer(sock, bytearray())
        assert status == 200 and "connection" not in headers  # the fast path took it
    assert _stored(served, int(headers["x-report-id"])) == ("w-pieces", 1)


@pytest.mark.slow
def test_other_requests_go_to_gunicorn_even_after_uploads(served: ServedCollector) -> None:
    with _connect(served) as sock:
        buffered = bytearray()
        sock.sendall(_request(_report("w-mixed"), "Content-Type: application/json"))
        assert _read_answer(sock, buffered)[0] == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = _read_answer(sock, buffered)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["connection"] == "close" and _is_closed(sock)


@pytest.mark.slow
def test_uploads_the_fast_path_does_not_take_are_still_stored(served: ServedCollector) -> None:
    body = _report("w-chunked")
    chunked = (
        b"POST /api/v1/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    )
    with _connect(served) as sock:
        sock.sendall(chunked)
        status, headers, _ = _read_answer(sock, bytearray())
    assert status == 200 and _stored(served, int(headers["x-report-id"])) == ("w-chunked", 1)
    big = json.loads(_report("w-big"))
    big["hosts"] = [
        dict(big["hosts"][0], mac=f"02:00:00:00:{i // 256:02x}:{i % 256:02x}") for i in range(1500)
    ]
    with _connect(served) as sock:
        sock.sendall(_request(json.dumps(big).encode(), "Content-Type: application/json"))
        status, headers, _ = _read_answer(sock, bytearray())
    assert status == 200 and headers["connection"] == "close"  # over 64 KiB: a thread served it
    assert _stored(served, int(headers["x-report-id"])) == ("w-big", 1)
    status, _, body = served.request(
        "POST", "/api/v1/report", b"x" * (LIMIT + 1), {"Content-Type": "application/json"}
    )
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("encoding", "content_type", "body"),
    [
        ("json", "application/json", _report("w-same")),
        ("gzip+aes", "application/octet-stream", encode(_report("w-same-aes"), "gzip+aes", key=KEY, iv=IV)),
        ("json", "text/plain", _report("w-415")),  # 415
        ("gzip", "application/octet-stream", b"not gzip"),  # 400 undecodable
        ("json", "application/json", b'{"schema": "gozen/1"'),  # 400 invalid JSON
        ("json", "application/json", json.dumps({**BASE_REPORT, "cycle": "12"}).encode()),  # 422
    ],
)
def test_the_fast_path_answers_as_the_flask_app_does(
    served: ServedCollector, client: FlaskClient, encoding: str, content_type: str, body: bytes
) -> None:
    with _connect(served) as sock:
        sock.sendall(_request(body, f"Content-Type: {content_type}", f"X-Payload-Encoding: {encoding}"))
        status, headers, answer = _read_answer(sock, bytearray())
    expected = client.post(
        "/api/v1/report", data=body, headers={"Content-Type": content_type, "X-Payload-Encoding": encoding}
    )
    assert (status, json.loads(answer)) == (expected.status_code, expected.json)
    assert headers["content-type"] == "application/json"
    for name, value in INGEST_HEADERS:
        assert headers[name.lower()] == value == expected.headers[name]
    assert ("x-report-id" in headers) == (status == 200)


@pytest.mark.slow
def test_sigterm_under_load_answers_what_it_took_and_stops(tmp_path) -> None:
    """A graceful stop while clients keep sending: it ends promptly, and every 2xx is stored."""
    server = ServedCollector(tmp_path / "c.sqlite", ADMIN_TOKEN)
    server.start()
    acked: dict[tuple[str, int], int] = {}
    stop = threading.Event()

    def client(index: int) -> None:
        home = f"w-term{index}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for cycle in range(1, 100_000):
            if stop.is_set():
                return
            try:
                conn.request(
                    "POST", "/api/v1/report", _report(home, cycle), {"Content-Type": "application/json"}
                )
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return  # the server went away: no answer, no promise
            if response.status == 200:
                acked[(home, cycle)] = int(response.headers["X-Report-Id"])

    clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(6)]
    try:
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acked) >= 200, "the load never got going"
        started = time.monotonic()
        server.stop()  # SIGTERM; SIGKILL only if it has not stopped within 15 s
        assert server.proc is not None and server.proc.returncode == 0
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=15)
        server.stop()
    conn = sqlite3.connect(server.database)
    try:
        stored = {
            (home, cycle): rid for rid, home, cycle in conn.execute("SELECT id, home, cycle FROM reports")
        }
    finally:
        conn.close()
    assert {k: stored.get(k) for k in acked} == acked
