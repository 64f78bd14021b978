"""The simulated TV telemetry SDK: profiles written once as behaviours, plus its transport layer."""

from testbed.sdk.gozen import SdkContext, gozen
from testbed.sdk.transport import (
    FakeTransport,
    HttpRequest,
    HttpResponse,
    HttpTransport,
    Transport,
    WsgiTransport,
)

PROFILES = {"gozen": gozen}
"""SDK profile name -> behaviour function(SdkContext) -> generator of steps."""

__all__ = [
    "PROFILES",
    "FakeTransport",
    "HttpRequest",
    "HttpResponse",
    "HttpTransport",
    "SdkContext",
    "Transport",
    "WsgiTransport",
    "gozen",
]
