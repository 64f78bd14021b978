"""Bar charts of the headline metrics, one per metric: scenarios on x, a bar per detector, 95% CI bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from testbed.distributed.atomic import atomic_target
from testbed.sweep.tables import HEADLINE, Aggregate


def write_plots(folder: Path, agg: Aggregate, metrics: Sequence[str]) -> list[Path]:
    """One PNG per headline metric present; returns the files (none if matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: sweeps run on servers and in CI
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    scenarios = list(dict.fromkeys(s for s, _ in agg))
    detectors = list(dict.fromkeys(d for _, d in agg))
    written = []
    for metric in [m for m in metrics if m in HEADLINE]:
        fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(scenarios) + 1), 3.2))
        width = 0.8 / max(1, len(detectors))
        for j, det in enumerate(detectors):
            xs, means, errs = [], [], []
            for i, sc in enumerate(scenarios):
                ci = agg.get((sc, det), {}).get(metric)
                if ci is None or not ci.n:
                    continue
                xs.append(i + (j - (len(detectors) - 1) / 2) * width)
                means.append(ci.mean)
                errs.append(0.0 if math.isnan(ci.half_width) else ci.half_width)
            ax.bar(xs, means, width, yerr=errs, capsize=3, label=det)
        ax.set_xticks(range(len(scenarios)), scenarios, rotation=15, ha="right")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric}: mean and 95% CI across seeds")
        ax.legend(fontsize="small")
        path = folder / f"{metric.replace('.', '_')}.png"
        with atomic_target(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written
