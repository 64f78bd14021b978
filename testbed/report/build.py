"""The sections of a bench report, assembled from the runs' scores (no I/O but the figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testbed.report import plots
from testbed.report.collect import RunResults, all_detectors
from testbed.report.document import Figure, Paragraph, Section, TableBlock
from testbed.score import LEAK_FIELDS, NOT_OBSERVABLE

NOT_BENCHED = "not benched"


def pct(v: float | None) -> str:
    """A rate as a percentage, "-" when undefined."""
    return "-" if v is None else f"{100 * v:.1f}%"


def num(v: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits, "-" when undefined."""
    return "-" if v is None else f"{v:.{digits}g}"


def _kinds(results: list[RunResults]) -> list[str]:
    return sorted({k for r in results for s in r.detectors.values() for k in s["recall"]["by_kind"]
                   if k not in NOT_OBSERVABLE})


def runs_section(results: list[RunResults]) -> Section:
    rows = [[r.label, r.scenario, str(r.households), f"{r.duration_s / 3600:g}",
             "yes" if r.benign_only else "no", str(len(r.detectors)), str(r.path)] for r in results]
    return Section("Runs", [TableBlock(["level", "scenario", "homes", "hours", "benign only", "detectors", "run"],
                                       rows)])


def detector_row(spec: str, s: dict[str, Any], kinds: list[str]) -> list[str]:
    """One detector's scores on one run as table cells."""
    by_kind = s["recall"]["by_kind"]
    ttd = s["ttd"]["overall"]
    flows = s.get("flows") or {}
    leak = ", ".join(f"{f} {pct(s['field_recall'][f]['recall'])}" for f in LEAK_FIELDS
                     if s["field_recall"][f]["uploads"]) if s.get("leak_detector") else "-"
    return [spec, str(s["alerts"]), f"{s['incidents']['total']} / {s['incidents']['false']}",
            *(pct(by_kind.get(k, {}).get("recall")) for k in kinds), pct(s["recall"]["overall"]),
            pct(s["precision"]), num(s["f1"]), num(s["fp_per_home_hour"]),
            f"{num(ttd['median'])} / {num(ttd['p90'])}", pct(s["pre_exfil"]["rate"]), leak,
            num(flows.get("pr_auc")), num(flows.get("roc_auc")), num(flows.get("tpr_at_fpr"))]


def run_section(run: RunResults, kinds: list[str], plot_dir: Path) -> Section:
    sec = Section(f"{run.label}: {run.scenario}")
    if not run.detectors:
        sec.blocks.append(Paragraph("No bench results in this run (run `tvtestbed bench` on it first)."))
        return sec
    headers = ["detector", "alerts", "incidents / FP", *(f"recall {k}" for k in kinds), "recall", "precision",
               "F1", "FP/home-h", "TTD med / p90 (s)", "pre-exfil", "leak recall", "PR-AUC", "ROC-AUC",
               "TPR@FPR1e-3"]
    sec.blocks.append(TableBlock(headers, [detector_row(spec, s, kinds) for spec, s in run.detectors.items()]))
    if run.benign_only:
        sec.blocks.append(Paragraph("Benign-only run: there are no SDK events, so recall is undefined and "
                                    "every incident is a false positive."))
    for fig in (plots.recall_precision_bars(run, plot_dir), plots.ttd_distributions(run, plot_dir)):
        if fig is not None:
            sec.blocks.append(Figure(fig, fig.stem))
    return sec


def heatmap_section(results: list[RunResults], plot_dir: Path) -> Section:
    attacked = [r for r in results if not r.benign_only]
    specs = all_detectors(results)
    sec = Section("Evasion ladder: event recall by level")
    rows = [[spec, *(pct(r.detectors[spec]["recall"]["overall"]) if spec in r.detectors else NOT_BENCHED
                     for r in attacked)] for spec in specs]
    sec.blocks.append(TableBlock(["detector", *(r.label for r in attacked)], rows))
    for metric in ("recall", "fp"):
        fig = plots.heatmap(results, plot_dir, metric)
        if fig is not None:
            sec.blocks.append(Figure(fig, f"heatmap of {metric}"))
    return sec


def benign_section(results: list[RunResults]) -> Section | None:
    """False positives on every benign-only run, for every detector benched anywhere (never assumed zero)."""
    benign = [r for r in results if r.benign_only]
    if not benign:
        return None
    sec = Section("False positives on benign-only runs")
    specs = all_detectors(results)
    for run in benign:
        rows = []
        for spec in specs:
            s = run.detectors.get(spec)
            if s is None:
                rows.append([spec, NOT_BENCHED, NOT_BENCHED, NOT_BENCHED])
            else:
                rows.append([spec, str(s["alerts"]), str(s["incidents"]["false"]), num(s["fp_per_home_hour"])])
        sec.blocks.append(TableBlock(["detector", "alerts", "FP incidents", "FP/home-h"], rows,
                                     caption=f"{run.label} ({run.scenario}, {run.households} homes, "
                                             f"{run.duration_s / 3600:g} h)"))
    if any(spec not in r.detectors for r in benign for spec in specs):
        sec.blocks.append(Paragraph(f"'{NOT_BENCHED}' means the detector was not run on that benign run: its "
                                    "false-positive rate there is unknown, not zero."))
    return sec


def build_sections(results: list[RunResults], plot_dir: Path) -> list[Section]:
    """Every section of the report, figures written into ``plot_dir`` as a side effect."""
    kinds = _kinds(results)
    sections = [runs_section(results)]
    if any(r.detectors for r in results):
        sections.append(heatmap_section(results, plot_dir))
    benign = benign_section(results)
    if benign is not None:
        sections.append(benign)
    pr = plots.pr_curves(results, plot_dir)
    if pr is not None:
        sections.append(Section("Flow-level precision-recall (scored detectors)", [Figure(pr, "PR curves")]))
    sections += [run_section(r, kinds, plot_dir) for r in results]
    sections.append(Section("How to read this", [Paragraph(
        "Scoring follows DESIGN.md without point-adjust: an alert matches an SDK event when its source is the "
        "TV (MAC when the alert has one, else IP) or its community_id is one of the event's flows, and its "
        "time lies in [event start, event end + delta]. Alerts of one detector on one source less than 60 s "
        "apart form one incident; precision is over incidents. wifi_scan events put nothing on the wire and "
        "are excluded from recall. Pre-exfil counts cycles with a matched alert no later than the first frame "
        "of the upload's connection to the collector. FP/home-h = false incidents per monitored home-hour.")]))
    return sections
