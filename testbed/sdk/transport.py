"""How the SDK's HTTP request reaches a collector: the transport layer under the SDK.

Like httpx's transports, each has one method, ``send(request) -> response``:
``WsgiTransport`` calls the collector's Flask app in-process (simulation), ``HttpTransport``
opens a real connection (containers), ``FakeTransport`` records requests in unit tests.
"""

from __future__ import annotations

import http.client
import io
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request as the SDK means it: what goes inside TCP or TLS."""

    method: str
    host: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    capture_time: float | None = None  # simulated epoch seconds; only the in-process transport passes it


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The collector's answer (status 0: no answer at all)."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Transport(Protocol):
    """Anything that can deliver one request."""

    def send(self, request: HttpRequest) -> HttpResponse:
        """Deliver ``request`` and return the answer."""
        ...


class WsgiTransport:
    """Delivers requests straight into a WSGI app (the collector), passing the simulated clock."""

    def __init__(self, app: Callable[..., Any], remote_addr: str = "198.51.100.1") -> None:
        self.app = app
        self.remote_addr = remote_addr

    def send(self, request: HttpRequest) -> HttpResponse:
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": request.path.split("?", 1)[0],
            "QUERY_STRING": request.path.split("?", 1)[1] if "?" in request.path else "",
            "SERVER_NAME": request.host,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.remote_addr,
            "CONTENT_LENGTH": str(len(request.body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "HTTP_HOST": request.host,
        }
        if request.capture_time is not None:
            # Not settable over HTTP: the collector's clock follows the simulation's.
            environ["testbed.capture_time"] = request.capture_time
        for name, value in request.headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        chunks = self.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        code, _, reason = captured["status"].partition(" ")
        return HttpResponse(int(code), reason, tuple(captured["headers"]), body)


class _SniHttpsConnection(http.client.HTTPSConnection):
    """HTTPS to an address the SDK resolved itself, naming the collector's domain in the SNI."""

    def __init__(self, host: str, port: int, sni: str, timeout: float) -> None:
        # The mock collector's certificate is self-made; the SDK (like many real ones) does not check it.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, timeout=timeout, context=context)
        self._sni = sni

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)


class HttpTransport:
    """A real HTTP/1.1 connection, or HTTPS with the request's host as SNI (used inside containers).

    ``last_local_port`` is the client port of the last connection, for the flow the truth records.
    """

    def __init__(self, timeout: float = 10.0, tls: bool = False) -> None:
        self.timeout = timeout
        self.tls = tls
        self.last_local_port = 0

    def send(self, request: HttpRequest, address: tuple[str, int] | None = None) -> HttpResponse:
        """Deliver ``request`` to ``address`` (default: its host on port 80, or 443 with TLS)."""
        host, port = address or (request.host, 443 if self.tls else 80)
        conn: http.client.HTTPConnection = (
            _SniHttpsConnection(host, port, request.host, self.timeout) if self.tls
            else http.client.HTTPConnection(host, port, timeout=self.timeout)
        )
        try:
            conn.connect()
            self.last_local_port = conn.sock.getsockname()[1]
            conn.request(request.method, request.path, body=request.body, headers=dict(request.headers))
            resp = conn.getresponse()
            return HttpResponse(resp.status, resp.reason, tuple(resp.getheaders()), resp.read())
        except OSError as exc:
            return HttpResponse(0, str(exc), (), b"")
        finally:
            conn.close()


@dataclass
class FakeTransport:
    """Records requests and answers each with a fixed response (unit tests)."""

    status: int = 200
    body: bytes = b'{"status": "ok"}'
    requests: list[HttpRequest] = field(default_factory=list)

    def send(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(self.status, "OK" if self.status < 400 else "Error", (), self.body)
