"""``tvtestbed report``: Markdown and HTML over several runs, figures, benign false positives, escaping."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from testbed.cli import app
from testbed.commands.bench import run_bench
from testbed.report import evasion_level, write_report
from testbed.run import run_scenario
from tests.helpers import small
from tests.score.conftest import fake_detectors  # noqa: F401 - a fixture used below

runner = CliRunner()
HOSTILE = "<script>alert('x')</script>|`code`"


def _as_scenario(run, name: str) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["scenario"]["name"] = name
    (run / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def ladder(tmp_path, gozen_run, runs_dir, fake_detectors):  # noqa: F811
    """Three 'levels' (copies of the gozen run renamed), and a benign run benched by only one detector."""
    runs = []
    for name in ("ladder-l0-plain", "ladder-l3-aes"):
        run = tmp_path / name
        shutil.copytree(gozen_run, run)
        _as_scenario(run, name)
        run_bench(run, ["echo", "echo,kinds=sweep"] if name.endswith("plain") else ["echo,kinds=sweep"])
        runs.append(run)
    benign = runs_dir / "benign-small"
    if not benign.exists():
        run_scenario(small("benign-only"), benign)
    benign_copy = tmp_path / "benign"
    shutil.copytree(benign, benign_copy)
    _as_scenario(benign_copy, "ladder-benign")
    run_bench(benign_copy, ["echo"])
    runs.append(benign_copy)
    return runs


def test_evasion_level():
    assert evasion_level("ladder-l3-aes") == "L3" and evasion_level("ladder-L12-x") == "L12"
    assert evasion_level("gozen-2021") == "gozen-2021" and evasion_level("ladder-benign") == "ladder-benign"


def test_report_md_html_plots(ladder, tmp_path):
    out = tmp_path / "rep"
    res = runner.invoke(app, ["report", *map(str, ladder), "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    pngs = {p.name for p in (out / "plots").glob("*.png")}
    assert {"heatmap-recall.png", "heatmap-fp.png", "pr-curves.png", "L0-recall-precision.png", "L0-ttd.png"} <= pngs
    assert all((out / "plots" / p).stat().st_size > 1000 for p in pngs)
    # The recall table across levels: L0 before L3, a detector not run at a level says so.
    assert "| detector | L0 | L3 |" in md and "not benched" in md
    # Benign-only false positives for every detector, including the one never run there.
    benign_part = md.split("## False positives on benign-only runs")[1].split("## ")[0]
    assert "| echo | 1 | 1 |" in benign_part
    assert "| echo_kinds-sweep |" not in benign_part and "| echo,kinds=sweep | not benched |" in benign_part
    assert "plots/heatmap-recall.png" in md
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page and "<style>" in page
    assert 'src="plots/' not in page and "http://" not in page and "https://" not in page


def test_report_defaults_to_first_run_and_rejects_non_runs(ladder, tmp_path):
    res = runner.invoke(app, ["report", str(ladder[0])])
    assert res.exit_code == 0, res.output
    assert (ladder[0] / "report.md").is_file() and (ladder[0] / "report.html").is_file()
    res = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert res.exit_code != 0 and "not a run directory" in res.output


def test_hostile_text_is_escaped(ladder, tmp_path):
    scores_path = ladder[0] / "bench/echo/scores.json"
    scores = json.loads(scores_path.read_text())
    scores["spec"] = HOSTILE
    scores_path.write_text(json.dumps(scores))
    _as_scenario(ladder[1], "ladder-l3-<img src=x onerror=alert(1)>")
    write_report(ladder, tmp_path / "rep")
    page = (tmp_path / "rep/report.html").read_text()
    md = (tmp_path / "rep/report.md").read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>" not in md and "&lt;script&gt;" in md and "\\|\\`code\\`" in md
