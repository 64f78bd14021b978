"""``python -m collector_mock serve ...``: the collector's commands without the testbed's CLI."""

from .cli import collector_app

collector_app(prog_name="python -m collector_mock")
