"""The SDK's HTTP(S) transport inside a container, which also tells the local port (for the flow record)."""

from __future__ import annotations

import http.client
import ssl

from testbed.sdk.transport import HttpRequest, HttpResponse, HttpTransport


class _SniHttpsConnection(http.client.HTTPSConnection):
    """HTTPS to an address the SDK resolved itself, naming the collector's domain in the SNI."""

    def __init__(self, host: str, port: int, sni: str, timeout: float) -> None:
        # Like many embedded SDKs, it does not check the (self-made) certificate.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, timeout=timeout, context=context)
        self._sni = sni

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._sni)


class LocalPortHttpTransport(HttpTransport):
    """``HttpTransport`` that remembers the local port of its last connection (HTTP, or TLS with the SNI)."""

    last_local_port: int = 0

    def send(self, request: HttpRequest, address: tuple[str, int] | None = None) -> HttpResponse:
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
