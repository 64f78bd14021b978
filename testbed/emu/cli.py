"""The container backend's commands: ``tvtestbed lab ...``, ``tvtestbed images ...``, ``tvtestbed compare``.

Registered on the main app by ``testbed.cli``; Docker is imported only when a command runs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from testbed.emu.labels import NODE_LABEL, ROLE_LABEL, RUN_LABEL, TESTBED_LABEL

lab_app = typer.Typer(no_args_is_help=True, help="Labs left running by `run --backend docker --keep` (teaching).")
images_app = typer.Typer(no_args_is_help=True, help="The container backend's node image.")
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _containers(run_id: str | None = None) -> list:
    from testbed.emu.docker_client import docker_client

    selector = f"{RUN_LABEL}={run_id}" if run_id else f"{TESTBED_LABEL}=1"
    return docker_client().containers.list(all=True, filters={"label": selector})


@lab_app.command("status")
def lab_status() -> None:
    """List the testbed's labs and their containers (role, node, address, state)."""
    containers = _containers()
    if not containers:
        out.print("no testbed containers")
        return
    table = Table("lab", "node", "role", "hostname", "addresses", "state")
    for c in sorted(containers, key=lambda c: (c.labels.get(RUN_LABEL, ""), c.labels.get(NODE_LABEL, ""))):
        nets = c.attrs["NetworkSettings"]["Networks"]
        addresses = " ".join(n.get("IPAddress") or "-" for n in nets.values())
        table.add_row(c.labels.get(RUN_LABEL, "?"), c.labels.get(NODE_LABEL, "?"), c.labels.get(ROLE_LABEL, "?"),
                      c.attrs["Config"]["Hostname"], addresses, c.status)
    out.print(table)


@lab_app.command("shell")
def lab_shell(node: Annotated[str, typer.Argument(help="A node (population id such as h0000-tv1).")],
              lab: Annotated[str | None, typer.Option(help="The lab id, when several are running.")] = None) -> None:
    """Open a shell in a device or TV container (ip addr, ip neigh, tcpdump -i eth0, ping...)."""
    matches = [c for c in _containers(lab) if c.labels.get(NODE_LABEL) == node]
    if not matches:
        err.print(f"[red]error:[/] no running node {node!r}; see `tvtestbed lab status`")
        raise typer.Exit(1)
    if len(matches) > 1:
        err.print(f"[red]error:[/] {node} is in several labs; give --lab")
        raise typer.Exit(1)
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        err.print("[red]error:[/] the docker command is needed for an interactive shell")
        raise typer.Exit(1)
    os.execv(docker_cli, [docker_cli, "exec", "-it", matches[0].name, "/bin/bash"])


@lab_app.command("down")
def lab_down(lab: Annotated[str | None, typer.Argument(help="The lab id (all labs when omitted).")] = None) -> None:
    """Remove a lab's containers, networks and host rules."""
    from testbed.emu.lab import prune

    removed = prune(lab)
    out.print(f"removed {removed['containers']} containers, {removed['networks']} networks, "
              f"{removed['rules']} host rules")


@lab_app.command("prune")
def lab_prune() -> None:
    """Remove everything any testbed run left behind (after a crash or a kill -9)."""
    lab_down(None)


@images_app.command("build")
def images_build(
    base: Annotated[str, typer.Option(help="auto, pull (python:3.11-slim) or debootstrap.")] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the content hash is unchanged.")] = False,
) -> None:
    """Build the node image (only if the project changed since the last build)."""
    from testbed.emu.images import ensure_node_image

    tag = ensure_node_image(base=base, force=force, log=lambda m: err.print(m, highlight=False))
    out.print(tag)


@images_app.command("list")
def images_list() -> None:
    """List the testbed's images."""
    from testbed.emu.docker_client import docker_client
    from testbed.emu.labels import HASH_LABEL

    table = Table("tags", "content hash", "size MB")
    for image in docker_client().images.list(filters={"label": f"{TESTBED_LABEL}=1"}):
        table.add_row(" ".join(image.tags), image.labels.get(HASH_LABEL, "-"), f"{image.attrs['Size'] / 1e6:.0f}")
    out.print(table)


def compare(
    left: Annotated[Path, typer.Argument(help="A run directory (e.g. --backend sim).")],
    right: Annotated[Path, typer.Argument(help="A run directory of the same scenario and seed (e.g. docker).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Divergence report of two runs: events per kind, leaked items, frames per protocol, upload sizes, timings."""
    from testbed.emu.compare import compare_runs

    report = compare_runs(left, right)
    if as_json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        for title, rows in report.sections.items():
            table = Table(title=title, title_justify="left")
            table.add_column("")
            table.add_column(f"{report.left.backend} ({left.name})", justify="right")
            table.add_column(f"{report.right.backend} ({right.name})", justify="right")
            table.add_column("", justify="left")
            for name, a, b in rows:
                table.add_row(str(name), str(a), str(b), "" if a == b else "[yellow]differs")
            out.print(table)
        if report.differences:
            out.print("[red]Divergences:[/]")
            for d in report.differences:
                out.print(f"  - {d}")
        else:
            out.print("[green]Same events per kind and same leaked items.[/]")
        out.print("Expected differences (wire and clock, not behaviour):")
        for d in report.expected:
            out.print(f"  - {d}")
    if report.differences:
        raise typer.Exit(1)


def run_docker_command(scenario, out_dir: Path, *, interval: str | None, force: bool, keep: bool,
                       faults: list[str], show: bool):
    """``run --backend docker``: the run with a progress bar (the caller prints the summary)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from testbed.emu.runner import Fault, run_docker
    from testbed.scenario import parse_duration

    seconds = parse_duration(interval) if interval else None
    parsed = tuple(Fault.parse(f) for f in faults)
    if not show:
        return run_docker(scenario, out_dir, interval=seconds, force=force, keep=keep, faults=parsed)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                  TextColumn("{task.fields[events]:>6} events"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(f"{scenario.name} in containers ({scenario.households.count} homes)", total=1.0, events=0)
        return run_docker(scenario, out_dir, interval=seconds, force=force, keep=keep, faults=parsed,
                          progress=lambda frac, s: bar.update(task, completed=frac, events=s.events),
                          log=lambda m: bar.console.print(m, highlight=False))
