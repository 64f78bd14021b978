"""The ``tvtestbed`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from collector_mock.cli import collector_app
from testbed.commands.bench import bench_command, report_command
from testbed.emu.cli import compare as compare_command
from testbed.emu.cli import images_app, lab_app
from testbed.errors import TestbedError

app = typer.Typer(no_args_is_help=True, add_completion=False, help="smarttv-testbed: TV telemetry SDKs on synthetic home LANs.")
scenarios_app = typer.Typer(no_args_is_help=True, help="List and validate scenario files.")
app.add_typer(scenarios_app, name="scenarios")
# Each layer keeps its own commands; this module only gathers them under one name.
app.command("bench")(bench_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.add_typer(collector_app, name="collector")
app.add_typer(lab_app, name="lab")
app.add_typer(images_app, name="images")

err = Console(stderr=True, soft_wrap=True)  # never wrap an error message in the middle of a path
out = Console()


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or the name of a shipped one (gozen-2021).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Run directory to create.")],
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    households: Annotated[int | None, typer.Option(help="Override the number of households.")] = None,
    duration: Annotated[str | None, typer.Option(help="Override the simulated duration (6h, 90m, 2d...).")] = None,
    workers: Annotated[int, typer.Option(help="Processes that run household shards (output does not depend on it).")] = 1,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing run directory.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar, no summary.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON on stdout.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Run household shards on this Dask scheduler (tcp://HOST:8786).")] = None,
    dask_local: Annotated[int | None, typer.Option(help="Run household shards on a local Dask cluster of N processes.")] = None,
    split_capture: Annotated[bool, typer.Option("--split-capture", help="Keep one capture part per shard (capture/ with index.json).")] = False,
    backend: Annotated[str, typer.Option(help="sim (simulated time) or docker (containers, real time).")] = "sim",
    interval: Annotated[str | None, typer.Option(help="docker: compress the SDK cycle to this (60s).")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="docker: leave the lab running (tvtestbed lab ...).")] = False,
    fault: Annotated[list[str] | None, typer.Option(help="docker: kill:NODE@40s, stop:NODE@T, start:NODE@T, leave:NODE@T, return:NODE@T.")] = None,
) -> None:
    """Simulate a scenario into a run directory: labelled capture, ground truth, collector database."""
    from testbed.distributed import ClusterSpec
    from testbed.run import run_scenario
    from testbed.scenario import load_scenario

    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = seed
    if households is not None:
        overrides["households.count"] = households
    if duration is not None:
        overrides["duration"] = duration
    sc = load_scenario(scenario, overrides)
    cluster = ClusterSpec(scheduler, dask_local)
    show = not quiet and not as_json
    if backend not in ("sim", "docker"):
        raise typer.BadParameter("sim or docker", param_hint="--backend")
    if backend == "docker":  # the container backend: real time, same run directory
        from testbed.emu.cli import run_docker_command

        summary = run_docker_command(sc, out_dir, interval=interval, force=force, keep=keep, faults=fault or [],
                                     show=show)
        if show:
            _print_summary(summary)
        if as_json:
            print(json.dumps(summary.to_dict(), indent=1))
        return
    if show:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                      TextColumn("{task.fields[frames]:>12,} frames"), TimeElapsedColumn(), TimeRemainingColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(f"{sc.name} ({sc.households.count} homes)", total=1.0, frames=0)
            summary = run_scenario(sc, out_dir, workers=workers, force=force, cluster=cluster,
                                   split_capture=split_capture,
                                   progress=lambda frac, s: bar.update(task, completed=frac, frames=s.frames))
        _print_summary(summary)
    else:
        summary = run_scenario(sc, out_dir, workers=workers, force=force, cluster=cluster, split_capture=split_capture)
    if as_json:
        print(json.dumps(summary.to_dict(), indent=1))


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="A sweep file (scenarios, seeds, overrides, detectors).")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Sweep directory (default: sweeps/NAME).")] = None,
    workers: Annotated[int | None, typer.Option(help="Local pool processes (default: CPUs).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run tasks on this Dask scheduler (tcp://HOST:8786).")] = None,
    dask_local: Annotated[int | None, typer.Option(help="Run tasks on a local Dask cluster of N processes.")] = None,
) -> None:
    """Run and bench every (scenario, seed), reusing finished ones; tables with 95% CIs across seeds."""
    from testbed.distributed import ClusterSpec
    from testbed.sweep import load_sweep
    from testbed.sweep.progress import run_with_progress

    spec = load_sweep(sweep_file)
    outcome = run_with_progress(spec, out_dir or Path("sweeps") / spec.name, ClusterSpec(scheduler, dask_local),
                                workers, base=sweep_file.parent, console=err)
    out.print(f"Sweep [bold]{outcome.out}[/]: {outcome.ran} tasks run, {outcome.reused} reused, "
              f"{len(outcome.failures)} failed; results.csv, aggregate.md, plots/")
    if outcome.failures:
        raise typer.Exit(1)


def _print_summary(s: Any) -> None:
    table = Table(title=f"Run {s.scenario} (seed {s.seed}, {s.backend})", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("households", s.households), ("devices", s.devices), ("TVs with the SDK active", s.tvs_with_sdk),
        ("frames captured", s.frames), ("SDK cycles", s.sdk_cycles), ("truth events", s.events),
        ("uploads delivered / tried", f"{s.uploads_delivered:,} / {s.uploads:,}"),
        ("bytes uploaded", s.bytes_uploaded),
        ("MACs that left homes", s.leaked("mac")), ("hostnames that left homes", s.leaked("hostname")),
        ("SSIDs that left homes", s.leaked("ssid")),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    out.print(table)
    if s.leaks:
        homes = Table(title="What left each home (distinct values uploaded)", title_justify="left")
        for col in ("home", "MACs", "hostnames", "SSIDs"):
            homes.add_column(col, justify="right" if col != "home" else "left")
        for hid, leaks in sorted(s.leaks.items())[:10]:
            homes.add_row(hid, *(str(len(leaks.values[f])) for f in ("mac", "hostname", "ssid")))
        if len(s.leaks) > 10:
            homes.add_row(f"... {len(s.leaks) - 10} more", "", "", "")
        out.print(homes)
    out.print(f"Artifacts in [bold]{s.out}[/]: capture.pcapng, truth/, population.json, collector.sqlite, manifest.json")


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the scenarios that ship with the testbed."""
    from testbed.scenario import load_scenario, shipped_scenarios

    table = Table("name", "file", "homes", "duration", "description")
    for path in shipped_scenarios():
        try:
            sc = load_scenario(path)
            table.add_row(sc.name, str(path.name), str(sc.households.count), f"{sc.duration / 3600:g}h",
                          sc.description.strip().split("\n")[0][:70])
        except TestbedError as exc:
            table.add_row(path.stem, str(path.name), "-", "-", f"[red]invalid: {exc}")
    out.print(table)


@scenarios_app.command("validate")
def scenarios_validate(files: Annotated[list[str], typer.Argument(help="Scenario files to check.")]) -> None:
    """Validate scenario files; exit 2 naming the file and field of the first problem of each."""
    from testbed.scenario import load_scenario

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
            out.print(f"{f}: ok ({sc.name}, {sc.households.count} households, {sc.duration / 3600:g}h)")
        except TestbedError as exc:
            err.print(f"[red]{exc}[/]", highlight=False)
            bad += 1
    if bad:
        raise typer.Exit(2)


def main() -> None:
    """Entry point: run the app, turning testbed errors into one clear line and an exit code."""
    try:
        code = app(standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into exit code 130; the run directory is already gone
            err.print("[yellow]interrupted:[/] nothing was written")
        if isinstance(code, int) and code:
            sys.exit(code)
    except TestbedError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted:[/] nothing was written")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):  # click's form of Ctrl-C
            err.print("[yellow]interrupted:[/] nothing was written")
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
