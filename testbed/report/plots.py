"""The report's figures (matplotlib, Agg backend: no display needed), one function per figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: reports are written on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from testbed.commands.artifacts import spec_dirname  # noqa: E402
from testbed.report.collect import RunResults, all_detectors  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def recall_precision_bars(run: RunResults, plots: Path) -> Path | None:
    """Per detector: recall per observable kind, overall recall and incident precision."""
    if not run.detectors or run.benign_only:
        return None
    specs = list(run.detectors)
    kinds = sorted({k for s in run.detectors.values() for k, v in s["recall"]["by_kind"].items()
                    if v.get("observable", True)})
    series = [(f"recall {k}", [s["recall"]["by_kind"].get(k, {}).get("recall") for s in run.detectors.values()])
              for k in kinds]
    series += [("recall (all)", [s["recall"]["overall"] for s in run.detectors.values()]),
               ("precision", [s["precision"] for s in run.detectors.values()])]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(specs) * len(series) / 3), 3.6))
    width = 0.8 / len(series)
    x = np.arange(len(specs))
    for i, (name, values) in enumerate(series):
        ax.bar(x + i * width - 0.4 + width / 2, [_nan(v) for v in values], width, label=name)
    ax.set_xticks(x, specs, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{run.label}: {run.scenario}")
    ax.legend(fontsize=7, ncols=2)
    return _save(fig, plots / f"{spec_dirname(run.label)}-recall-precision.png")


def ttd_distributions(run: RunResults, plots: Path) -> Path | None:
    """Per detector: the distribution of time to detect over all matched events (box plot)."""
    data = {spec: [v for vs in s.get("ttd_values", {}).values() for v in vs] for spec, s in run.detectors.items()}
    data = {k: v for k, v in data.items() if v}
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(data)), 3.4))
    ax.boxplot(list(data.values()), showfliers=True)
    ax.set_xticks(range(1, len(data) + 1), list(data), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("time to detect (s)")
    ax.set_title(f"{run.label}: time to detect")
    return _save(fig, plots / f"{spec_dirname(run.label)}-ttd.png")


def pr_curves(results: list[RunResults], plots: Path) -> Path | None:
    """Flow-level precision-recall curves of every scored detector on every run."""
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    drawn = 0
    for run in results:
        for spec, s in run.detectors.items():
            curve = (s.get("flows") or {}).get("pr_curve")
            if curve:
                ax.plot(curve["x"], curve["y"], label=f"{spec} @ {run.label} (AP {s['flows']['pr_auc']:.2f})")
                drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("recall (flows)")
    ax.set_ylabel("precision (flows)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7)
    ax.set_title("Flow-level precision-recall")
    return _save(fig, plots / "pr-curves.png")


def heatmap(results: list[RunResults], plots: Path, metric: str) -> Path | None:
    """Detector x evasion level of ``metric``: "recall" (runs with SDK events) or "fp" (FP per home-hour, all runs)."""
    runs = [r for r in results if metric == "fp" or not r.benign_only]
    specs = all_detectors(runs)
    if not runs or not specs:
        return None
    grid = np.full((len(specs), len(runs)), np.nan)
    for j, run in enumerate(runs):
        for i, spec in enumerate(specs):
            s = run.detectors.get(spec)
            if s is not None:
                grid[i, j] = _nan(s["recall"]["overall"] if metric == "recall" else s["fp_per_home_hour"])
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(runs), 1.0 + 0.45 * len(specs)))
    vmax = 1.0 if metric == "recall" else max(1e-9, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1.0)
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis" if metric == "recall" else "magma_r",
                   vmin=0.0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(runs)), [r.label for r in runs], rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(specs)), specs, fontsize=8)
    for i in range(len(specs)):
        for j in range(len(runs)):
            v = grid[i, j]
            text = "n/a" if np.isnan(v) else (f"{v:.2f}" if metric == "recall" else f"{v:.3g}")
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if np.isnan(v) or v < 0.5 * vmax else "black")
    fig.colorbar(im, ax=ax, label="event recall" if metric == "recall" else "FP incidents / home-hour")
    ax.set_title("Recall by evasion level" if metric == "recall" else "False positives by run")
    return _save(fig, plots / f"heatmap-{metric}.png")
