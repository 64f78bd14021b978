"""The sweep's tables: ``results.csv`` (one row per scenario, seed, detector) and the aggregate across
seeds (``aggregate.csv`` in long form, ``aggregate.md`` for the headline metrics)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from testbed.distributed.atomic import write_text_atomic
from testbed.sweep.stats import Interval, mean_ci

KEYS = ("scenario", "seed", "detector", "run")
#: Shown in aggregate.md and plotted, when the scorer gives them (aggregate.csv has every metric).
HEADLINE = ("recall.overall", "precision", "f1", "fp_per_home_hour", "ttd.overall.median", "pre_exfil.rate",
            "flows.pr_auc")
AGGREGATE_COLUMNS = ("scenario", "detector", "metric", "n", "mean", "std", "ci95_low", "ci95_high",
                     "ci95_half_width")

Aggregate = dict[tuple[str, str], dict[str, Interval]]  # (scenario, detector) -> metric -> interval


def metric_names(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every metric column, headline metrics first, then the rest sorted."""
    names = {k for r in rows for k in r if k not in KEYS}
    return [m for m in HEADLINE if m in names] + sorted(names - set(HEADLINE))


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _num(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"


def write_results(path: Path, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Write results.csv (empty cell: the scorer gave no such metric); returns the metric columns."""
    metrics = metric_names(rows)
    body = [[r.get(k, "") for k in KEYS] + [_num(r[m]) if m in r else "" for m in metrics] for r in rows]
    write_text_atomic(path, _csv([*KEYS, *metrics], body))
    return metrics


def aggregate(rows: Sequence[dict[str, Any]], metrics: Sequence[str]) -> Aggregate:
    """Mean and 95% t-interval across seeds, per (scenario, detector) and metric."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["detector"]), []).append(r)
    return {g: {m: mean_ci([r[m] for r in rs if m in r]) for m in metrics} for g, rs in groups.items()}


def write_aggregate(csv_path: Path, md_path: Path, agg: Aggregate, metrics: Sequence[str], title: str) -> None:
    """Write aggregate.csv (every metric) and aggregate.md (headline metrics, mean ± half-width)."""
    body = [[s, d, m, ci.n, _num(ci.mean), _num(ci.std), _num(ci.low), _num(ci.high), _num(ci.half_width)]
            for (s, d), by_metric in agg.items() for m, ci in by_metric.items() if ci.n]
    write_text_atomic(csv_path, _csv(AGGREGATE_COLUMNS, body))
    shown = [m for m in metrics if m in HEADLINE] or list(metrics[:6])
    lines = [f"# Sweep {title}", "",
             "Mean across seeds ± half-width of the 95% confidence interval (Student's t, n - 1 degrees of "
             "freedom); n is the number of seeds. Every metric is in aggregate.csv.", "",
             "| scenario | detector | n | " + " | ".join(shown) + " |",
             "|---|---|---:|" + "---:|" * len(shown)]
    for (s, d), by_metric in agg.items():
        n = max((ci.n for ci in by_metric.values()), default=0)
        cells = []
        for m in shown:
            ci = by_metric.get(m)
            if ci is None or not ci.n:
                cells.append("-")
            elif math.isnan(ci.half_width):
                cells.append(f"{ci.mean:.3g}")
            else:
                cells.append(f"{ci.mean:.3g} ± {ci.half_width:.2g}")
        lines.append(f"| {s} | `{d}` | {n} | " + " | ".join(cells) + " |")
    write_text_atomic(md_path, "\n".join(lines) + "\n")
