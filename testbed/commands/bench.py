"""``tvtestbed bench`` and ``tvtestbed report``: run detectors on a run, score them, report across runs."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from testbed.commands.artifacts import spec_dirname, write_json_atomic, write_jsonl_atomic
from testbed.errors import TestbedError
from testbed.score import DEFAULT_DELTA, LEAK_FIELDS, check_run_dir, load_run_truth, score_run

#: Detectors known to learn from a benign capture, for a detector that does not say so with ``learns``.
LEARNING = frozenset({"flow-anomaly"})

err = Console(stderr=True, soft_wrap=True)
out = Console()


class BenchError(TestbedError):
    """A bench that cannot run as asked: a bad spec, a learning detector without --train (exit 2)."""

    exit_code = 2


def _detect_api() -> types.ModuleType:
    """The detectors package (a hook, so that tests can stand in a fake registry)."""
    try:
        import testbed.detect as detect
    except ImportError as exc:  # pragma: no cover - only while testbed.detect has not landed
        raise BenchError(f"the detectors (testbed.detect) are not available: {exc}") from None
    return detect


def _needs_fit(spec: str, detector: Any) -> bool:
    declared = getattr(detector, "learns", None)  # the detector contract's ClassVar
    if declared is None:
        declared = getattr(detector, "requires_fit", None)
    if declared is not None:
        return bool(declared)
    return spec.split(",", 1)[0].strip() in LEARNING


def make_detectors(specs: list[str], api: Any) -> dict[str, tuple[str, Any]]:
    """spec -> (directory name, detector); a bad spec is a BenchError naming it."""
    made: dict[str, tuple[str, Any]] = {}
    for spec in specs:
        try:
            detector = api.make_detector(spec)
        except Exception as exc:  # the registry's errors vary (unknown name, bad parameter): all exit 2
            raise BenchError(f"bad detector spec {spec!r}: {exc}") from None
        made[spec] = (spec_dirname(spec), detector)
    names = [d for d, _ in made.values()]
    if len(set(names)) != len(names):
        raise BenchError(f"detector specs give the same directory name twice: {', '.join(specs)}")
    return made


def run_bench(run: Path, specs: list[str], train: Path | None = None,
              delta: float = DEFAULT_DELTA) -> dict[str, dict[str, Any]]:
    """Run each detector on ``run``'s capture, score it, write ``RUN/bench/<name>/``; scores by spec."""
    if not specs:
        raise BenchError("give at least one --detector SPEC (e.g. --detector arp-sweep,window=30)")
    run = check_run_dir(run)
    if not (run / "capture.pcapng").is_file():
        raise BenchError(f"{run}: not a run directory (missing capture.pcapng)")
    api = _detect_api()
    detectors = make_detectors(specs, api)
    learners = [spec for spec, (_, det) in detectors.items() if _needs_fit(spec, det)]
    if learners and train is None:
        raise BenchError(f"{', '.join(learners)}: learns from benign traffic; give --train BENIGN_RUN")
    if learners and train is not None:
        check_run_dir(train)
        train_capture = api.Capture(train / "capture.pcapng")
        for spec in learners:
            detectors[spec][1].fit(train_capture)
    capture = api.Capture(run / "capture.pcapng")
    alerts = _detect_all(api, capture, detectors)
    truth = load_run_truth(run)
    results: dict[str, dict[str, Any]] = {}
    for spec, (dirname, detector) in detectors.items():
        flow_scores = detector.score_flows(capture) if hasattr(detector, "score_flows") else None
        scores = score_run(run, alerts[spec], spec, flow_scores, delta=delta, truth=truth)
        scores["spec"] = spec
        folder = run / "bench" / dirname
        write_jsonl_atomic(folder / "alerts.jsonl", (_as_dict(a) for a in alerts[spec]))
        write_json_atomic(folder / "scores.json", scores)
        results[spec] = scores
    return results


def _as_dict(alert: Any) -> dict[str, Any]:
    return alert if isinstance(alert, dict) else alert.to_dict()


def _detect_all(api: Any, capture: Any, detectors: dict[str, tuple[str, Any]]) -> dict[str, list[Any]]:
    """Alerts by spec: one shared pass over the capture when the registry offers it and names are unique."""
    dets = [det for _, det in detectors.values()]
    try:
        if hasattr(api, "run_detectors"):
            found = api.run_detectors(capture, dets)
            # A list in the order given (a dict keyed by name, also in that order, is accepted too).
            lists = list(found.values()) if isinstance(found, dict) else list(found)
            if len(lists) == len(dets):
                return dict(zip(detectors, lists, strict=True))
        return {spec: list(det.detect(capture)) for spec, (_, det) in detectors.items()}
    except Exception as exc:
        if "NotFitted" in type(exc).__name__:
            raise BenchError(f"a detector must be trained first: {exc} (give --train BENIGN_RUN)") from None
        raise


def _fmt(value: float | None, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.0f}%" if pct else f"{value:.3g}"


def bench_table(run: Path, results: dict[str, dict[str, Any]]) -> Table:
    """The summary ``bench`` prints: one row per measure, one column per detector (fits a terminal)."""
    table = Table(title=f"Bench on {escape(str(run))}", title_justify="left")
    table.add_column("measure", style="bold")
    for spec in results:
        table.add_column(escape(spec), justify="right", overflow="fold")
    kinds = sorted({k for r in results.values() for k, v in r["recall"]["by_kind"].items()
                    if v.get("observable", True)})
    rows: list[tuple[str, list[str]]] = [
        ("alerts", [str(r["alerts"]) for r in results.values()]),
        ("incidents (FP)", [f"{r['incidents']['total']} ({r['incidents']['false']})" for r in results.values()]),
    ]
    rows += [(f"recall {k}", [_fmt(r["recall"]["by_kind"].get(k, {}).get("recall")) for r in results.values()])
             for k in kinds]
    rows += [
        ("recall (observable)", [_fmt(r["recall"]["overall"]) for r in results.values()]),
        ("precision (incidents)", [_fmt(r["precision"]) for r in results.values()]),
        ("F1", [_fmt(r["f1"], pct=False) for r in results.values()]),
        ("FP / home-hour", [_fmt(r["fp_per_home_hour"], pct=False) for r in results.values()]),
        ("TTD median / p90 (s)", [f"{_fmt(r['ttd']['overall']['median'], False)} / "
                                  f"{_fmt(r['ttd']['overall']['p90'], False)}" for r in results.values()]),
        ("pre-exfil cycles", [_fmt(r["pre_exfil"]["rate"]) for r in results.values()]),
    ]
    if any(r["leak_detector"] for r in results.values()):
        rows += [(f"leak recall {f}", [_fmt(r["field_recall"][f]["recall"]) if r["leak_detector"] else "-"
                                       for r in results.values()]) for f in LEAK_FIELDS]
    if any(r.get("flows") for r in results.values()):
        for key, label in (("pr_auc", "flow PR-AUC"), ("roc_auc", "flow ROC-AUC"), ("tpr_at_fpr", "TPR @ FPR 1e-3")):
            rows.append((label, [_fmt((r.get("flows") or {}).get(key), pct=False) for r in results.values()]))
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def bench_command(
    run: Annotated[Path, typer.Argument(help="A run directory (from `tvtestbed run`).")],
    detector: Annotated[list[str], typer.Option("--detector", "-d",
                                                help="Detector spec, e.g. arp-sweep,window=30 (repeatable).")],
    train: Annotated[Path | None, typer.Option(help="A benign run whose capture learning detectors fit on.")] = None,
    delta: Annotated[float, typer.Option(help="Seconds after an event's end in which an alert still matches it.")] = DEFAULT_DELTA,
) -> None:
    """Run detectors on a run's capture, score them against its truth, write RUN/bench/<detector>/."""
    try:
        results = run_bench(run, detector, train, delta)
    except TestbedError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    out.print(bench_table(run, results))
    out.print(f"Scores in [bold]{escape(str(run / 'bench'))}[/]/<detector>/scores.json")


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Run directories with bench results.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where to write (default: the first RUN).")] = None,
) -> None:
    """Write report.md, report.html and plots/ over the bench results of one or more runs."""
    from testbed.report import write_report

    try:
        written = write_report(runs, out_dir or runs[0])
    except TestbedError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    out.print(f"Report: [bold]{escape(str(written['md']))}[/] and [bold]{escape(str(written['html']))}[/] "
              f"({written['plots']} plots)")
