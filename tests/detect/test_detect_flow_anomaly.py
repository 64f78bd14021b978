"""flow-anomaly: an Isolation Forest fitted on the benign homes scores SDK flows higher."""

from __future__ import annotations

import statistics

import pytest

from testbed.detect import NotFittedError, make_detector

from .conftest import capture, flow_labels


@pytest.fixture(scope="module")
def fitted(benign_run):
    return make_detector("flow-anomaly").fit(capture(benign_run))


def test_needs_fit(plain_run):
    with pytest.raises(NotFittedError, match="fit"):
        make_detector("flow-anomaly").detect(capture(plain_run))


def test_sdk_flows_score_higher(fitted, plain_run):
    labels = flow_labels(plain_run)
    scored = fitted.score_flows(capture(plain_run))
    sdk = [s for cid, _, s in scored if cid in labels and not labels[cid].startswith("benign")]
    benign = [s for cid, _, s in scored if labels.get(cid, "benign").startswith("benign")]
    assert len(sdk) >= 20 and len(benign) >= 100
    assert statistics.mean(sdk) > statistics.mean(benign) + 0.05
    # the upload's TCP flow (port 80, never seen in benign training) outscores 90% of benign flows
    uploads = sorted(s for cid, _, s in scored if labels.get(cid, "").endswith("-upload"))
    assert uploads[len(uploads) // 2] > statistics.quantiles(benign, n=10)[-1]


def test_alerts_are_mostly_sdk(fitted, plain_run):
    labels = flow_labels(plain_run)
    alerts = fitted.detect(capture(plain_run))
    assert alerts and all(a.community_id and a.score > fitted.threshold_ for a in alerts)
    sdk = sum(not labels.get(a.community_id, "benign").startswith("benign") for a in alerts)
    assert sdk / len(alerts) >= 0.8
    upload_flows = {cid for cid, label in labels.items() if label.endswith("-upload")}
    assert len({a.community_id for a in alerts} & upload_flows) >= len(upload_flows) // 2 - 1
