"""Flow-level scores of a scored detector: PR-AUC, ROC-AUC and TPR at a fixed FPR.

Labels come from ``truth/flows.csv`` by community_id: a flow is positive when any row with its
community_id carries an SDK event id (ids repeat, e.g. a DHCP exchange every few minutes; one SDK row
is enough). A scored flow whose id is not in the truth counts as negative and is reported as unknown.
PR-AUC is scikit-learn's average precision (the step-wise area, not the optimistic trapezoid).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

TARGET_FPR = 1e-3
MAX_CURVE_POINTS = 200  # enough for a plot; keeps scores.json small


def flow_labels(flows_csv: Path) -> dict[str, bool]:
    """community_id -> positive, from a run's ``truth/flows.csv`` (rows without an id are skipped)."""
    labels: dict[str, bool] = {}
    with open(flows_csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cid = row["community_id"]
            if cid:
                labels[cid] = labels.get(cid, False) or bool(row["event_id"])
    return labels


def tpr_at_fpr(fpr: Sequence[float], tpr: Sequence[float], target: float = TARGET_FPR) -> float:
    """The best true-positive rate on the ROC curve with false-positive rate <= ``target``."""
    ok = [t for f, t in zip(fpr, tpr, strict=True) if f <= target]
    return float(max(ok)) if ok else 0.0


def _thin(xs: np.ndarray, ys: np.ndarray) -> dict[str, list[float]]:
    if len(xs) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(xs) - 1, MAX_CURVE_POINTS).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return {"x": [round(float(v), 6) for v in xs], "y": [round(float(v), 6) for v in ys]}


def flow_metrics(flow_scores: Iterable[Sequence[Any]], labels: Mapping[str, bool],
                 target_fpr: float = TARGET_FPR) -> dict[str, Any]:
    """PR-AUC, ROC-AUC, TPR at ``target_fpr`` and thinned PR/ROC curves for (community_id, first_ts, score)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    y: list[int] = []
    s: list[float] = []
    unknown = 0
    for cid, _first_ts, score in flow_scores:
        if cid not in labels:
            unknown += 1
        y.append(1 if labels.get(cid, False) else 0)
        s.append(float(score))
    out: dict[str, Any] = {"flows": len(y), "positives": sum(y), "unknown_flows": unknown,
                           "target_fpr": target_fpr, "pr_auc": None, "roc_auc": None,
                           "tpr_at_fpr": None, "pr_curve": None, "roc_curve": None}
    if not y or len(set(y)) < 2:  # both classes are needed for either curve
        return out
    yt, ys = np.asarray(y), np.asarray(s)
    fpr, tpr, _ = roc_curve(yt, ys)
    precision, recall, _ = precision_recall_curve(yt, ys)
    out.update({
        "pr_auc": float(average_precision_score(yt, ys)),
        "roc_auc": float(roc_auc_score(yt, ys)),
        "tpr_at_fpr": tpr_at_fpr(fpr, tpr, target_fpr),
        "pr_curve": _thin(recall[::-1], precision[::-1]),
        "roc_curve": _thin(fpr, tpr),
    })
    return out
