"""``tvtestbed bench`` on a real small run with a fake detector registry: files, scores, exit codes."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from testbed.cli import app
from testbed.score import load_run_truth, score_run

runner = CliRunner()


@pytest.fixture(scope="module")
def run_copy(tmp_path_factory, request):
    """A private copy of the session's gozen run: bench writes into it."""
    src = request.getfixturevalue("gozen_run")
    dst = tmp_path_factory.mktemp("bench") / "run"
    shutil.copytree(src, dst)
    return dst


def test_bench_writes_alerts_and_scores(run_copy, fake_detectors):
    res = runner.invoke(app, ["bench", str(run_copy), "--detector", "echo", "--detector", "echo,kinds=sweep"])
    assert res.exit_code == 0, res.output
    for name in ("echo", "echo_kinds-sweep"):
        folder = run_copy / "bench" / name
        alerts = [json.loads(line) for line in (folder / "alerts.jsonl").read_text().splitlines()]
        scores = json.loads((folder / "scores.json").read_text())
        assert alerts and scores["alerts"] == len(alerts)
        assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left behind
    s = json.loads((run_copy / "bench/echo/scores.json").read_text())
    truth = load_run_truth(run_copy)
    tvs = len(truth.tvs)
    assert s["spec"] == "echo" and s["recall"]["by_kind"]["sweep"]["detected"] == tvs
    assert s["incidents"]["false"] == 1 and s["fp_per_home_hour"] == pytest.approx(1 / (3 * 2.0))
    assert s["recall"]["by_kind"]["wifi_scan"]["observable"] is False
    assert s["field_recall"]["mac"]["found"] == tvs
    assert 0.5 < s["flows"]["roc_auc"] < 1.0 and s["flows"]["pr_curve"]["x"]
    # Pre-exfil: the alert at each first sweep comes before that cycle's upload.
    assert s["pre_exfil"]["detected"] >= tvs
    assert "echo" in res.output and "recall" in res.output


def test_score_run_matches_the_pure_scores(run_copy, fake_detectors):
    from tests.score.conftest import FakeCapture, TruthEcho

    alerts = TruthEcho().detect(FakeCapture(run_copy / "capture.pcapng"))
    s = score_run(run_copy, alerts, "echo")
    assert s["benign_only"] is False and s["households"] == 3 and s["duration_s"] == 7200.0
    assert s["flows"] is None


def test_bench_refusals_exit_2(run_copy, tmp_path, fake_detectors):
    res = runner.invoke(app, ["bench", str(run_copy), "--detector", "nonesuch,x=1"])
    assert res.exit_code == 2 and "nonesuch,x=1" in res.output
    res = runner.invoke(app, ["bench", str(run_copy), "--detector", "learner"])
    assert res.exit_code == 2 and "--train" in res.output
    res = runner.invoke(app, ["bench", str(tmp_path), "--detector", "echo"])
    assert res.exit_code != 0 and "not a run directory" in res.output
    res = runner.invoke(app, ["bench", str(tmp_path / "missing"), "--detector", "echo"])
    assert res.exit_code != 0 and "not a run directory" in res.output


def test_learning_detector_with_train(run_copy, fake_detectors):
    res = runner.invoke(app, ["bench", str(run_copy), "--detector", "learner", "--train", str(run_copy)])
    assert res.exit_code == 0, res.output
    assert (run_copy / "bench/learner/scores.json").is_file()


def test_spec_dirnames_are_safe():
    from testbed.commands.artifacts import spec_dirname

    assert spec_dirname("arp-sweep,window=30") == "arp-sweep_window-30"
    for spec in ("../../etc/passwd", ".hidden", "command,cmd=/bin/sh -c x", "a" * 300):
        name = spec_dirname(spec)
        assert "/" not in name and not name.startswith(".") and len(name) <= 80
    assert spec_dirname("a/b") != spec_dirname("a_b")
