"""The served collector's gunicorn worker: uploads answered in batches from one event loop per process.

Why: with gunicorn's gthread worker every upload went from the worker's event loop to a pool thread,
from there to the group-commit writer thread and back, then back to the loop, and through gunicorn's
HTTP parser and WSGI machinery and Flask's middleware on the way. On this project's 2-core machines
that cost 850-1,000 us of CPU per upload (measured with ``benchmarks/bench_collector.py``: a trivial WSGI
handler under gthread costs 250-330 us, decoding, validating and writing a report about 200 us), which
held ingest near 1,000 reports/s; the collector must take 3,000. This worker spends about 300 us.

How it serves, in each worker process (``gunicorn -k collector_mock.worker.IngestWorker``):

- The main thread waits (epoll) on the listening sockets and on every kept-alive connection. When a
  connection has data it *peeks* at it (``MSG_PEEK``: nothing consumed). If it starts with the head of a
  ``POST /api/v1/report HTTP/1.1`` with a ``Content-Length`` and plain headers, the request is read off
  the socket (the body as it arrives) and checked at once: content type, decoding, schema
  (``ingest.check_body``). A refused upload is answered there and then.
- The accepted uploads queue for this process's writer thread, which commits a whole batch in one
  transaction (``group_commit.write_batch``; the worker processes take turns through the lock file)
  while the loop reads and checks the next batch. Only once the batch has committed are its 200s sent,
  so every 2xx is a committed report; the batch grows by itself with the load, and there is one thread
  hand-off per batch rather than several per upload. The connection stays open for the next upload.
- Anything else (another route or method, chunked bodies, ``Expect``, uploads over 64 KiB, TLS,
  unusual or repeated headers) is handed, untouched, to gunicorn's own sync-worker code on a thread
  (``--threads`` of them): it parses the request, runs the Flask app (where ``fast_ingest`` still serves
  an upload), and closes the connection after the answer. The loop only peeked at such a request, so
  gunicorn reads it exactly as it was sent and applies all of its own checks and limits.

The fast path writes no access log and runs no ``pre_request``/``post_request`` hooks (the collector
configures none). ``SIGTERM`` stops accepting, answers every upload already taken, and lets the threads
finish their requests.
"""

from __future__ import annotations

import math
import os
import queue
import re
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from gunicorn.workers.sync import SyncWorker

from .app import INGEST_HEADERS
from .fast_ingest import FastIngest, internal_error, response_parts
from .group_commit import open_writer_lock, write_batch
from .ingest import INGEST_PATH, Outcome, accepted, check_body, content_type_error, storage_failure
from .store import PreparedReport, Store

__all__ = ["IngestWorker", "UploadHead", "parse_head"]

PEEK_BYTES = 64 * 1024  # how much of a request is looked at at once; larger uploads take the slow path
# Longer heads, or more headers, are left to gunicorn's own checks (its default limits).
MAX_HEAD = 8190
MAX_HEADERS = 100
_REQUEST_LINE = f"POST {INGEST_PATH} HTTP/1.1".encode()
# A header name: an RFC 9110 token without "_" (gunicorn drops such headers: left to it).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^`|~0-9A-Za-z]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # never in a header value
# Headers that change how the request must be read or answered: gunicorn's code handles those.
_SLOW_HEADERS = frozenset({b"transfer-encoding", b"expect", b"upgrade", b"http2-settings"})


@dataclass(frozen=True, slots=True)
class UploadHead:
    """The head of an upload request the fast path takes: its sizes and what ingest needs of it."""

    size: int  # of the head, blank line included: the body starts there
    length: int  # of the body (Content-Length)
    mimetype: str  # lower case, without parameters
    encoding: str | None  # the X-Payload-Encoding header
    close: bool  # the client asked to close the connection after the answer


def parse_head(data: bytes, max_body: int) -> UploadHead | None:
    """The head of the upload at the start of ``data`` if the fast path takes it; None for anything else."""
    end = data.find(b"\r\n\r\n", 0, MAX_HEAD)
    if end < 0:
        return None  # not all there, or too long: gunicorn's parser waits for it, or refuses it
    lines = data[:end].split(b"\r\n")
    if lines[0] != _REQUEST_LINE or len(lines) > 1 + MAX_HEADERS:
        return None
    values: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name) or _CONTROL.search(value):
            return None
        name = name.lower()
        if name in values or name in _SLOW_HEADERS:  # a repeated header: let gunicorn judge it
            return None
        values[name] = value.strip(b" \t")
    length = values.get(b"content-length", b"")
    connection = values.get(b"connection", b"keep-alive").lower()
    if not length.isdigit() or int(length) > max_body or connection not in (b"keep-alive", b"close"):
        return None
    encoding = values.get(b"x-payload-encoding")
    return UploadHead(
        size=end + 4,
        length=int(length),
        mimetype=values.get(b"content-type", b"").split(b";", 1)[0].strip().lower().decode("latin-1"),
        encoding=None if encoding is None else encoding.decode("latin-1"),
        close=connection == b"close",
    )


class _Connection:
    """A kept-alive client connection owned by the event loop."""

    __slots__ = (
        "address",
        "body",
        "busy",
        "close",
        "deadline",
        "events",
        "fd",
        "head",
        "listener",
        "pending",
        "sock",
    )

    def __init__(self, sock: socket.socket, address: Any, listener: socket.socket) -> None:
        self.sock, self.address, self.listener = sock, address, listener
        self.fd = sock.fileno()  # still its key once the socket is closed
        self.events = 0  # what the poller watches for: read, write, or nothing
        self.busy = False  # its upload is being committed: read nothing more from it until answered
        self.head: UploadHead | None = None  # an upload whose body is still arriving,
        self.body = bytearray()  # and the part of that body already read
        self.pending = b""  # the part of an answer the socket did not take yet
        self.close = False  # close once ``pending`` is sent
        self.deadline = 0.0  # closed if idle until then

    @property
    def remote_addr(self) -> str | None:
        return self.address[0] if isinstance(self.address, tuple) else None


class _Writer:
    """This process's writer thread: it commits one batch while the event loop reads and checks the next.

    Why a thread: with ``synchronous=FULL`` a commit waits for the disk (fsync), and the other worker
    process's commit may hold the lock file; the loop would sit idle meanwhile. There is one hand-off per
    batch, not per upload: the batch goes in a queue, and the loop learns that it has committed from a
    pipe it polls with the sockets.
    """

    def __init__(self, config: Any, log: Any) -> None:
        self.config, self.log = config, log
        self.wake, self._wake_write = os.pipe()
        os.set_blocking(self.wake, False)
        self._batches: queue.SimpleQueue[list[PreparedReport] | None] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[list[int | Exception]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="collector-writer", daemon=True)
        self._thread.start()

    def submit(self, reports: list[PreparedReport]) -> None:
        """Commit ``reports`` in one transaction; their results come in ``results`` (the loop is woken)."""
        self._batches.put(reports)

    def close(self) -> None:
        """Stop after the batches already submitted."""
        self._batches.put(None)
        self._thread.join()
        os.close(self.wake)
        os.close(self._wake_write)

    def _run(self) -> None:
        store: Store | None = None
        lock = -1
        try:
            while (reports := self._batches.get()) is not None:
                try:
                    if store is None:  # opened in the thread that uses it
                        store = Store.open(self.config["DATABASE"], synchronous=self.config["SYNCHRONOUS"])
                        lock = open_writer_lock(self.config["DATABASE"])
                    results = write_batch(store, lock, reports)
                except Exception as exc:  # the lock file or the database cannot be used at all
                    self.log.exception("the collector could not store a batch")
                    results = [exc] * len(reports)
                self.results.put(results)  # before the wake-up, so the loop finds it
                os.write(self._wake_write, b"\0")
        finally:
            if lock >= 0:
                os.close(lock)
            if store is not None:
                store.close()


class IngestWorker(SyncWorker):
    """gunicorn worker: uploads on an event loop with batched commits, other requests on threads."""

    def run(self) -> None:
        middleware = getattr(self.wsgi, "wsgi_app", None)
        # Only the collector app has the fast path; under any other app every request takes the slow one.
        self._config = middleware.app.config if isinstance(middleware, FastIngest) else None
        self._writer = _Writer(self._config, self.log) if self._config is not None else None
        self._threads = ThreadPoolExecutor(self.cfg.threads, thread_name_prefix="collector-request")
        self._poller = selectors.DefaultSelector()
        self._connections: dict[int, _Connection] = {}
        self._accepting = False
        # Accepted uploads (connection, close after the answer?, body, rows): waiting for the writer,
        # and the batch it is writing.
        self._waiting: list[tuple[_Connection, bool, bytes, PreparedReport]] = []
        self._committing: list[tuple[_Connection, bool, bytes, PreparedReport]] = []
        self._date, self._date_second = "", -1
        self._poller.register(self.PIPE[0], selectors.EVENT_READ, _SIGNAL)  # gunicorn's wake-up on signals
        if self._writer is not None:
            self._poller.register(self._writer.wake, selectors.EVENT_READ, _COMMITTED)
        try:
            self._serve()
        finally:
            self._set_accepting(False)
            for conn in list(self._connections.values()):
                self._drop(conn, flush=True)
            self._threads.shutdown(wait=True)  # requests on threads finish (gunicorn bounds the wait)
            self._poller.close()
            if self._writer is not None:
                self._writer.close()

    def _serve(self) -> None:
        next_tick = 0.0
        while self.alive:
            now = time.monotonic()
            if now >= next_tick:  # once a second, not every round: a round can take well under 1 ms
                next_tick = now + 1.0
                self.notify()  # gunicorn's heartbeat (a file's mtime)
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    return
                for conn in [c for c in self._connections.values() if c.deadline < now]:
                    self._drop(conn)  # idle for longer than the keep-alive timeout
            self._set_accepting(len(self._connections) < self.cfg.worker_connections)
            self._round(self._poller.select(timeout=1.0))
        # Stopping: take what has already arrived; close the connections that have no upload in hand
        # (so no new one comes), and answer the others, closing them after the answer.
        self._set_accepting(False)
        self._round(self._poller.select(timeout=0))
        for conn in [c for c in self._connections.values() if not c.busy]:
            self._drop(conn, flush=True)
        while self._committing or self._waiting:
            self._round(self._poller.select(timeout=1.0))

    def _round(self, events: list[tuple[selectors.SelectorKey, int]]) -> None:
        """Serve what the poller reported; then hand the checked uploads to the writer, if it is free."""
        for key, mask in events:
            target = key.data
            if target is _SIGNAL:
                _drain(self.PIPE[0])
            elif target is _COMMITTED:
                _drain(key.fd)
                self._answer_committed()
            elif isinstance(target, _Connection):
                if mask & selectors.EVENT_WRITE:
                    self._flush(target)
                elif target.busy:
                    # A client sending its next request before the answer (pipelining): stop watching
                    # until the answer goes out. Done lazily: other clients wait, and cost no syscall.
                    self._watch(target, 0)
                else:
                    self._take(target)
            else:
                self._accept(target)
        if self._waiting and not self._committing:
            assert self._writer is not None
            self._committing, self._waiting = self._waiting, []
            self._writer.submit([report for *_, report in self._committing])

    # -- connections ------------------------------------------------------------------------------

    def _set_accepting(self, accepting: bool) -> None:
        if accepting == self._accepting:
            return
        for listener in self.sockets:
            if accepting:
                listener.setblocking(False)
                self._poller.register(listener, selectors.EVENT_READ, listener)
            else:
                self._poller.unregister(listener)
        self._accepting = accepting

    def _accept(self, listener: socket.socket) -> None:
        try:
            sock, address = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up
        except OSError as exc:
            self.log.warning("accept failed: %s", exc)  # e.g. out of file descriptors: retried later
            return
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            # An answer is one write; never hold it back waiting for the client's ACK (Nagle).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = _Connection(sock, address, listener)
        conn.deadline = time.monotonic() + self.cfg.keepalive
        self._connections[conn.fd] = conn
        self._watch(conn, selectors.EVENT_READ)

    def _watch(self, conn: _Connection, events: int) -> None:
        """Have the poller watch ``conn`` for ``events`` (0: for nothing)."""
        if events == conn.events:
            return
        if not conn.events:
            self._poller.register(conn.sock, events, conn)
        elif not events:
            self._poller.unregister(conn.sock)
        else:
            self._poller.modify(conn.sock, events, conn)
        conn.events = events

    def _take(self, conn: _Connection) -> None:
        """Read the upload waiting on ``conn`` and check it, or hand ``conn`` to a thread if it is not one."""
        if conn.head is not None:
            self._read_body(conn, conn.head)
            return
        try:
            data = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK)  # nothing consumed yet
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:  # the client closed the connection
            self._drop(conn)
            return
        head = parse_head(data, self._config["MAX_CONTENT_LENGTH"]) if self._config is not None else None
        if head is None or head.size + head.length > PEEK_BYTES:
            # Larger uploads (a /16 sweep) too: a thread reads those, so that what the loop holds in
            # memory for bodies still arriving stays small whatever the number of connections.
            self._hand_off(conn)
            return
        # Consume this request (what of it has arrived), never the start of the next one.
        taken = min(len(data), head.size + head.length)
        if not self._consume(conn, taken):
            return
        body = data[head.size : taken]
        if len(body) < head.length:  # the rest of the body is on its way
            conn.head, conn.body = head, bytearray(body)
            conn.deadline = time.monotonic() + self.cfg.timeout
            return
        self._check(conn, head, body)

    def _read_body(self, conn: _Connection, head: UploadHead) -> None:
        try:
            chunk = conn.sock.recv(head.length - len(conn.body))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # closed before the whole body came: no answer is owed
            self._drop(conn)
            return
        conn.body += chunk
        if len(conn.body) == head.length:
            body, conn.head, conn.body = bytes(conn.body), None, bytearray()
            self._check(conn, head, body)

    def _consume(self, conn: _Connection, size: int) -> bool:
        """Take ``size`` bytes that were peeked at off the socket; False if the connection broke."""
        try:
            while size:
                size -= len(conn.sock.recv(min(size, PEEK_BYTES)))
        except OSError:
            self._drop(conn)
            return False
        return True

    def _check(self, conn: _Connection, head: UploadHead, body: bytes) -> None:
        """Answer a refused upload at once; queue an accepted one for the next batch."""
        try:
            checked = content_type_error(head.mimetype) or check_body(
                body, head.encoding, config=self._config, remote_addr=conn.remote_addr
            )
        except Exception:
            self.log.exception("unhandled error in the collector")
            checked = internal_error()
        self._count()
        if isinstance(checked, Outcome):
            self._send(conn, checked, close=head.close or not self.alive)
        else:
            conn.busy = True
            conn.deadline = math.inf  # not idle: waiting for the commit
            self._waiting.append((conn, head.close, body, checked))

    def _hand_off(self, conn: _Connection) -> None:
        """Serve ``conn`` on a thread with gunicorn's sync-worker code: one request, then close."""
        self._forget(conn)
        conn.sock.setblocking(True)
        conn.sock.settimeout(self.cfg.timeout)  # a stalled client must not hold a thread for ever
        self._threads.submit(self.handle, conn.listener, conn.sock, conn.address)

    def _forget(self, conn: _Connection) -> None:
        self._watch(conn, 0)
        self._connections.pop(conn.fd, None)

    def _drop(self, conn: _Connection, *, flush: bool = False) -> None:
        """Close ``conn`` (after sending what it still has pending if ``flush``)."""
        self._forget(conn)
        if flush and conn.pending:
            try:
                conn.sock.settimeout(1.0)
                conn.sock.sendall(conn.pending)
            except OSError:
                pass
        conn.sock.close()

    def _count(self) -> None:
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False

    # -- answers ----------------------------------------------------------------------------------

    def _answer_committed(self) -> None:
        """Answer the uploads of the batch the writer has just finished."""
        assert self._writer is not None
        results = self._writer.results.get_nowait()
        batch, self._committing = self._committing, []
        for (conn, close, body, _), result in zip(batch, results, strict=True):
            self._send(conn, self._stored(body, result), close=close or not self.alive)

    def _stored(self, body: bytes, result: int | Exception) -> Outcome:
        if not isinstance(result, Exception):
            return accepted(body, result)
        try:
            return storage_failure(result)
        except Exception:
            self.log.error("storing a report failed", exc_info=result)
            return internal_error()

    def _send(self, conn: _Connection, outcome: Outcome, *, close: bool) -> None:
        if conn.fd not in self._connections:
            return  # closed meanwhile (the worker is stopping)
        status, headers, body = response_parts(outcome, INGEST_HEADERS)
        if close:
            headers.append(("Connection", "close"))
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        conn.pending = (
            f"HTTP/1.1 {status}\r\nDate: {self._http_date()}\r\n{head}\r\n".encode("latin-1") + body
        )
        conn.close, conn.busy = close, False
        conn.deadline = time.monotonic() + self.cfg.keepalive
        self._flush(conn)

    def _flush(self, conn: _Connection) -> None:
        """Send what ``conn`` has pending; what the socket does not take now waits for it to be writable."""
        try:
            sent = conn.sock.send(conn.pending)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(conn)
            return
        conn.pending = conn.pending[sent:]
        if conn.pending:
            self._watch(conn, selectors.EVENT_WRITE)  # and read nothing meanwhile: answers stay in order
        elif conn.close:
            self._drop(conn)
        else:
            self._watch(conn, selectors.EVENT_READ)

    def _http_date(self) -> str:
        second = int(time.time())
        if second != self._date_second:
            self._date, self._date_second = formatdate(second, usegmt=True), second
        return self._date


_SIGNAL = "signal"  # poller tags: gunicorn's signal wake-up pipe, and the writer's "committed" pipe
_COMMITTED = "committed"


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, InterruptedError):
        pass
