"""``gunicorn collector_mock.wsgi:app``: the collector configured from ``COLLECTOR_*`` environment variables.

Served this way, uploads use group commit and ``synchronous=FULL`` unless the environment says otherwise
(``COLLECTOR_GROUP_COMMIT=false``, ``COLLECTOR_SYNCHRONOUS=NORMAL``). ``tvtestbed collector serve`` is the
simpler way to start it: it also refuses non-loopback addresses and makes up an admin token if none is set.
"""

from __future__ import annotations

import os

from .app import create_app

__all__ = ["app"]

for _name, _default in (("COLLECTOR_GROUP_COMMIT", "true"), ("COLLECTOR_SYNCHRONOUS", "FULL")):
    os.environ.setdefault(_name, _default)

app = create_app()
