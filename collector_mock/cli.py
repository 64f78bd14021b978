"""``tvtestbed collector ...``: the collector's own commands (``collector_app``, added by ``testbed.cli``).

Also runnable alone: ``python -m collector_mock serve --db collector.sqlite``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from . import auth
from .server import CollectorServer, is_loopback, served_config
from .store import StoreError, initialize

__all__ = ["collector_app"]

collector_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="The mock collector (the data company's server)."
)


@collector_app.callback()
def _group() -> None:
    """The mock collector (the data company's server)."""


@collector_app.command()
def serve(
    db: Annotated[
        Path | None, typer.Option("--db", help="The collector's SQLite database (created if absent).")
    ] = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="A run directory: serve its collector.sqlite.")
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback only unless --public).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port (0: any free port; the URL is printed).", min=0, max=65535)
    ] = 8080,
    workers: Annotated[int, typer.Option(help="gunicorn worker processes.", min=1, max=64)] = 2,
    threads: Annotated[
        int, typer.Option(help="Threads per worker for requests other than uploads.", min=1, max=256)
    ] = 16,
    public: Annotated[
        bool, typer.Option("--public", help="Allow a non-loopback --host (e.g. in the container backend).")
    ] = False,
    synchronous: Annotated[
        str, typer.Option(help="SQLite synchronous mode: full (survives power loss) or normal.")
    ] = "full",
) -> None:
    """Serve the collector under gunicorn: ingest API, read API, dashboard, erasure.

    The admin token comes from COLLECTOR_ADMIN_TOKEN; if it is unset, a random one is made up and printed.
    Other COLLECTOR_* variables (AES_KEYS, MAX_CONTENT_LENGTH...) configure the app as well.
    """
    if (db is None) == (run is None):
        _usage_error("give exactly one of --db PATH or --run RUN_DIRECTORY")
    if run is not None:
        db = run / "collector.sqlite"
        if not db.is_file():
            _usage_error(f"--run: {run} holds no collector.sqlite; is it a run directory?")
    assert db is not None
    if not is_loopback(host) and not public:
        _usage_error(
            f"--host: {host} is not a loopback address; the testbed stays off real networks unless --public is given"
        )
    if synchronous.upper() not in ("FULL", "NORMAL"):
        _usage_error("--synchronous: full or normal")
    try:
        initialize(db)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None

    token = os.environ.get("COLLECTOR_ADMIN_TOKEN") or ""
    generated = not token
    if generated:
        token = auth.generate_token()
    config = served_config(str(db), token, synchronous=synchronous.upper())

    def ready(url: str) -> None:
        typer.echo(f"Collector on {db}, listening on {url}")
        if generated:
            typer.echo(
                f"Admin token (made up for this run; set COLLECTOR_ADMIN_TOKEN to choose one): {token}"
            )
            typer.echo(f"Dashboard: {url}/?token={token}")
        else:
            typer.echo(f"Dashboard: {url}/ (admin token from COLLECTOR_ADMIN_TOKEN)")
        typer.echo(f"Health: {url}/healthz  API: {url}/api/v1/openapi.json", color=False)

    CollectorServer(config, host=host, port=port, workers=workers, threads=threads, on_ready=ready).run()


def _usage_error(message: str) -> NoReturn:
    # typer.Exit rather than BadParameter: the testbed's CLI runs typer in non-standalone mode, where an
    # exception raised inside a command would be shown as a traceback.
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


if __name__ == "__main__":
    collector_app()
