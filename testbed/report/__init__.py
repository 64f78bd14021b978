"""Reports over bench results: ``write_report(runs, out_dir)`` writes report.md, report.html and plots/."""

from __future__ import annotations

import shutil
from pathlib import Path

from testbed.commands.artifacts import write_atomic
from testbed.errors import RunError
from testbed.report.build import build_sections
from testbed.report.collect import RunResults, evasion_level, load_all, load_results
from testbed.report.document import to_html, to_markdown

__all__ = ["RunResults", "evasion_level", "load_all", "load_results", "write_report"]


def write_report(runs: list[Path], out_dir: Path) -> dict[str, object]:
    """Write the report over ``runs`` into ``out_dir``; returns the paths written and the plot count."""
    if not runs:
        raise RunError("give at least one run directory")
    results = load_all([Path(r) for r in runs])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_dir = out_dir / "plots"
    # Plots of an earlier report may name runs no longer in this one: start from an empty folder.
    shutil.rmtree(plot_dir, ignore_errors=True)
    plot_dir.mkdir()
    sections = build_sections(results, plot_dir)
    title = "smarttv-testbed detector report"
    md, page = out_dir / "report.md", out_dir / "report.html"
    write_atomic(md, lambda fh: fh.write(to_markdown(title, sections, out_dir)))
    write_atomic(page, lambda fh: fh.write(to_html(title, sections)))
    return {"md": md, "html": page, "plots": len(list(plot_dir.glob("*.png")))}
