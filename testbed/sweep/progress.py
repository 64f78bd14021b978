"""A live progress bar over a sweep's tasks (rich), with each failure named as it happens."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from testbed.distributed.cluster import ClusterSpec
from testbed.sweep.runner import SweepOutcome, plan_sweep, run_sweep
from testbed.sweep.spec import SweepSpec
from testbed.sweep.tasks import SweepTask


def run_with_progress(spec: SweepSpec, out: Path, cluster: ClusterSpec, workers: int | None,
                      base: Path | None = None, console: Console | None = None) -> SweepOutcome:
    """``run_sweep`` with a progress bar on ``console`` (stderr in the CLI)."""
    console = console or Console(stderr=True)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(f"sweep {spec.name}", total=None, failed=0)
        failed = 0

        def on_event(kind: str, t: SweepTask, message: str) -> None:
            nonlocal failed
            if kind in ("done", "reused"):
                bar.advance(task)
            elif kind == "failed":
                failed += 1
                bar.update(task, advance=1, failed=failed)
                console.print(f"[red]failed:[/] {t.scenario_name} seed {t.seed}: {message}", highlight=False)

        bar.update(task, total=len(plan_sweep(spec, out, base=base).all()))
        return run_sweep(spec, out, cluster=cluster, workers=workers, on_event=on_event, base=base)
