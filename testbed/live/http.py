"""The SDK's HTTP transport inside a container, which also tells the local port (for the flow record)."""

from __future__ import annotations

import http.client

from testbed.sdk.transport import HttpRequest, HttpResponse, HttpTransport


class LocalPortHttpTransport(HttpTransport):
    """``HttpTransport`` (plain HTTP) that remembers the local port of its last connection."""

    last_local_port: int = 0

    def send(self, request: HttpRequest, address: tuple[str, int] | None = None) -> HttpResponse:
        host, port = address or (request.host, 80)
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
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
