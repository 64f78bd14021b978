"""Confidence intervals, the sweep file, and metric flattening (fast, no runs)."""

from __future__ import annotations

import builtins
import math

import pytest

from testbed.errors import ScenarioError
from testbed.sweep import load_sweep, mean_ci
from testbed.sweep.stats import t_critical
from testbed.sweep.tasks import flatten_metrics, manifest_hash


def test_mean_ci_matches_the_t_interval():
    ci = mean_ci([0.5, 0.6, 0.7])
    assert ci.n == 3 and ci.mean == pytest.approx(0.6)
    assert ci.std == pytest.approx(0.1)
    assert ci.half_width == pytest.approx(4.302653 * 0.1 / math.sqrt(3), rel=1e-5)
    assert math.isnan(mean_ci([1.0]).half_width)


def test_t_table_without_scipy(monkeypatch):
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_scipy)
    assert t_critical(2) == 4.303
    assert t_critical(35) == 2.042  # the next smaller tabulated df: never too narrow
    assert t_critical(1000) == 1.960


def test_sweep_file_seeds_and_errors(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("scenarios: [gozen-2021]\nseeds: {from: 3, to: 5}\ndetectors: [a]\n")
    spec = load_sweep(f)
    assert spec.name == "s" and spec.seed_list() == [3, 4, 5]
    f.write_text("scenarios: [gozen-2021]\nseeds: '1..2'\ndetectors: [a]\nbogus: 1\n")
    with pytest.raises(ScenarioError, match="bogus"):
        load_sweep(f)
    f.write_text("scenarios: ['nothing-like-this-*']\nseeds: [1]\ndetectors: [a]\n")
    with pytest.raises(ScenarioError, match="no scenario matches"):
        load_sweep(f).scenario_paths()


def test_flatten_keeps_finite_numbers_only():
    flat = flatten_metrics({"a": {"b": 1, "c": None, "d": [1, 2]}, "e": True, "f": 0.5, "g": float("nan")})
    assert flat == {"a.b": 1.0, "f": 0.5}
    assert manifest_hash({"x": 1}, 1, "0.1") != manifest_hash({"x": 1}, 2, "0.1")
