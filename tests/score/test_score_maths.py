"""Scoring maths on hand-built events and alerts whose scores are known by hand."""

from __future__ import annotations

import math

import pytest

from testbed.score import (
    TvAddress,
    alert_fields,
    f1_score,
    flow_metrics,
    fp_per_home_hour,
    group_incidents,
    quantiles,
    score_events,
    tpr_at_fpr,
)

TV_IP, TV_MAC = "192.168.1.50", "aa:bb:cc:00:00:01"
TVS = {"h0-tv1": TvAddress("h0-tv1", TV_IP, TV_MAC)}
T0 = 1_000_000.0


def ev(kind: str, cycle: int, start: float, end: float, flows: tuple[str, ...] = (), **extra):
    """A truth event of TV h0-tv1, times relative to T0."""
    base = {"id": f"h0-tv1-c{cycle:04d}-{kind}", "household": "h0", "tv": "h0-tv1", "cycle": cycle,
            "kind": kind, "start": T0 + start, "end": T0 + end, "flows": list(flows), "items": []}
    base.update(extra)
    return base


def upload(cycle: int, start: float, end: float, fields=("mac", "ssid"), delivered=True, attempt=1, **kw):
    return ev("upload", cycle, start, end, (f"1:up{cycle}",), attempt=attempt, delivered=delivered,
              items=[{"field": f, "value": "x", "subject": "d"} for f in fields], **kw)


def alert(ts: float, src_ip=TV_IP, src_mac=TV_MAC, detector="d", **kw):
    return {"ts": T0 + ts, "detector": detector, "src_ip": src_ip, "src_mac": src_mac, **kw}


def cycle_events(cycle: int, t: float):
    """One SDK cycle at t: sweep 2 s, probe 1 s, wifi scan 2 s, upload 0.5 s."""
    return [ev("sweep", cycle, t, t + 2), ev("probe", cycle, t + 2, t + 3),
            ev("wifi_scan", cycle, t + 3, t + 5), upload(cycle, t + 5, t + 5.5)]


def score(events, alerts, households=1, duration=3600.0, **kw):
    return score_events(events, alerts, TVS, households, duration, **kw)


# --- matching window ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("offset", "matches"), [
    (-0.001, False),      # before the event starts
    (0.0, True),          # at the start
    (10.0 + 60.0, True),  # exactly end + delta
    (10.0 + 60.001, False),
])
def test_window_edges(offset, matches):
    r = score([ev("sweep", 1, 0, 10)], [alert(offset)])
    assert r["recall"]["by_kind"]["sweep"]["detected"] == int(matches)


def test_delta_is_a_parameter():
    r = score([ev("sweep", 1, 0, 10)], [alert(15.0)], delta=5.0)
    assert r["recall"]["overall"] == 1.0
    r = score([ev("sweep", 1, 0, 10)], [alert(15.001)], delta=5.0)
    assert r["recall"]["overall"] == 0.0


def test_entity_by_ip_mac_and_community_id():
    e = [ev("probe", 1, 0, 1, flows=("1:abc",))]
    assert score(e, [alert(0.5, src_mac=None)])["recall"]["overall"] == 1.0           # IP alone
    assert score(e, [alert(0.5, src_ip=None)])["recall"]["overall"] == 1.0            # MAC alone
    assert score(e, [alert(0.5, src_ip=None, src_mac="AA:BB:CC:00:00:01")])["recall"]["overall"] == 1.0
    other = alert(0.5, src_ip="192.168.1.9", src_mac="aa:bb:cc:00:00:09")
    assert score(e, [other])["recall"]["overall"] == 0.0
    assert score(e, [{**other, "community_id": "1:abc"}])["recall"]["overall"] == 1.0  # the flow matches
    assert score(e, [{**other, "community_id": "1:zzz"}])["recall"]["overall"] == 0.0
    # Another home's device holding the TV's IP: its MAC decides, so no match.
    assert score(e, [alert(0.5, src_mac="aa:bb:cc:00:00:09")])["recall"]["overall"] == 0.0


def test_community_id_match_still_needs_the_time_window():
    e = [ev("probe", 1, 0, 1, flows=("1:abc",))]
    a = alert(61.001, src_ip="10.0.0.1", src_mac="00:00:00:00:00:09", community_id="1:abc")
    assert score(e, [a])["recall"]["overall"] == 0.0


# --- recall, precision, F1, FP rate ----------------------------------------------------------------

def test_recall_precision_f1_fp_on_a_known_case():
    events = cycle_events(1, 0) + cycle_events(2, 600)  # 6 observable events, 2 wifi scans
    alerts = [
        alert(1.0),                                 # cycle 1: sweep (and nothing else: probe starts at 2)
        alert(605.2),                               # cycle 2: upload, and sweep/probe within end + 60
        alert(2000.0),                              # far from any event: false positive
        alert(2030.0),                              # 30 s later: the same false incident
        alert(3000.0, src_ip="192.168.1.77", src_mac="aa:bb:cc:00:00:77"),  # other device: FP
    ]
    r = score(events, alerts, households=2, duration=7200.0)
    kinds = r["recall"]["by_kind"]
    assert kinds["sweep"] == {"events": 2, "detected": 2, "recall": 1.0}
    assert kinds["probe"] == {"events": 2, "detected": 1, "recall": 0.5}
    assert kinds["upload"] == {"events": 2, "detected": 1, "recall": 0.5}
    assert kinds["wifi_scan"] == {"events": 2, "observable": False}
    assert r["recall"]["overall"] == pytest.approx(4 / 6)
    assert r["incidents"] == {"total": 4, "true": 2, "false": 2, "precision": 0.5}
    assert r["f1"] == pytest.approx(2 * (4 / 6) * 0.5 / (4 / 6 + 0.5))
    assert r["fp_per_home_hour"] == pytest.approx(2 / (2 * 2.0))
    assert r["alerts"] == 5 and r["matched_alerts"] == 2


def test_no_alerts_and_no_events_are_undefined_not_zero():
    r = score([], [])
    assert r["recall"]["overall"] is None and r["precision"] is None and r["f1"] is None
    assert r["ttd"]["overall"] == {"n": 0, "median": None, "p90": None}
    r = score([], [alert(5.0)], households=4, duration=1800.0)  # benign-only run: every alert is FP
    assert r["precision"] == 0.0 and r["fp_per_home_hour"] == pytest.approx(1 / 2.0)


def test_f1_and_fp_helpers():
    assert f1_score(1.0, 0.5) == pytest.approx(2 / 3)
    assert f1_score(0.0, 0.0) == 0.0
    assert f1_score(None, 1.0) is None
    assert fp_per_home_hour(3, 10, 36_000) == pytest.approx(3 / 100)
    assert fp_per_home_hour(3, 0, 3600) is None


# --- incidents --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("gap", "incidents"), [(59.0, 1), (59.999, 1), (60.0, 2), (61.0, 2)])
def test_incident_gap_boundary(gap, incidents):
    assert len(group_incidents([alert(0.0), alert(gap)])) == incidents


def test_incidents_chain_and_split_by_detector_and_source():
    chain = [alert(t) for t in (0, 50, 100, 150)]  # each 50 s after the last: one incident of 150 s
    assert [(i.start - T0, i.end - T0, i.alerts) for i in group_incidents(chain)] == [(0, 150, [0, 1, 2, 3])]
    mixed = [alert(0), alert(1, detector="other"), alert(2, src_mac="aa:bb:cc:00:00:02")]
    assert len(group_incidents(mixed)) == 3
    # Order of input does not matter.
    assert len(group_incidents([alert(100), alert(0), alert(50)])) == 1


def test_incident_is_true_if_any_alert_matches():
    r = score([ev("sweep", 1, 0, 1)], [alert(0.5), alert(100.0)])  # one incident? no: 99.5 s apart
    assert r["incidents"]["total"] == 2 and r["incidents"]["true"] == 1
    r = score([ev("sweep", 1, 0, 1)], [alert(0.5), alert(40.0), alert(90.0)])  # chained into one
    assert r["incidents"] == {"total": 1, "true": 1, "false": 0, "precision": 1.0}


# --- time to detect ---------------------------------------------------------------------------------

def test_time_to_detect_uses_first_matched_alert():
    events = [ev("sweep", c, 600 * c, 600 * c + 2) for c in range(1, 6)]
    delays = [1.0, 2.0, 3.0, 4.0, 10.0]
    alerts = [alert(600 * c + d) for c, d in zip(range(1, 6), delays, strict=True)]
    alerts += [alert(600 * 1 + 30.0)]  # a later alert on the first sweep does not change its TTD
    r = score(events, alerts)
    assert r["ttd"]["by_kind"]["sweep"] == {"n": 5, "median": 3.0, "p90": pytest.approx(7.6)}
    assert r["ttd"]["overall"]["median"] == 3.0
    assert sorted(r["ttd_values"]["sweep"]) == pytest.approx(delays)


def test_quantiles():
    assert quantiles([5.0]) == {"n": 1, "median": 5.0, "p90": 5.0}
    q = quantiles(list(map(float, range(11))))
    assert q["median"] == 5.0 and q["p90"] == pytest.approx(9.0)


# --- pre-exfiltration -------------------------------------------------------------------------------

def test_pre_exfil_alert_must_come_no_later_than_the_upload_start():
    events = cycle_events(1, 0) + cycle_events(2, 600) + cycle_events(3, 1200)
    alerts = [alert(1.0), alert(605.0), alert(1205.001)]  # c1 early; c2 at the upload start; c3 late
    r = score(events, alerts)
    assert r["pre_exfil"] == {"cycles": 3, "detected": 2, "rate": pytest.approx(2 / 3)}


def test_pre_exfil_uses_the_connection_start_when_known():
    events = cycle_events(1, 0)
    up = events[-1]["id"]
    late = [alert(5.1)]  # after the event start (DNS), before the TCP connection's first frame
    assert score(events, late)["pre_exfil"]["detected"] == 0
    assert score(events, late, payload_start={up: T0 + 5.2})["pre_exfil"]["detected"] == 1


def test_pre_exfil_batching_and_undelivered_cycles():
    # Batch of 3: cycles 1-2 have no upload and wait for cycle 3's; cycle 4's upload is never delivered.
    events = [ev("sweep", 1, 0, 2), ev("sweep", 2, 600, 602), *cycle_events(3, 1200),
              *cycle_events(4, 1800)[:-1], upload(4, 1805, 1805.5, delivered=False)]
    alerts = [alert(610.0), alert(1300.0)]  # cycle 2 before cycle 3's upload; cycle 3 after it
    r = score(events, alerts)
    assert r["pre_exfil"] == {"cycles": 3, "detected": 1, "rate": pytest.approx(1 / 3)}


def test_pre_exfil_deadline_is_the_first_attempt():
    events = [ev("sweep", 1, 0, 2), upload(1, 5, 6, delivered=False),
              {**upload(1, 40, 41), "id": "h0-tv1-c0001-upload-r1", "attempt": 2}]
    assert score(events, [alert(20.0)])["pre_exfil"]["detected"] == 0  # the payload left at 5 s
    assert score(events, [alert(1.0)])["pre_exfil"]["detected"] == 1


# --- per-field leak recall --------------------------------------------------------------------------

def test_field_recall():
    events = [upload(1, 0, 1, fields=("mac", "ssid", "rtt")), upload(2, 600, 601, fields=("mac",)),
              upload(3, 1200, 1201, fields=("mac", "hostname"))]
    alerts = [alert(0.5, fields=["mac", "ssid"]),
              alert(600.5, fields={"mac": ["x"]}),
              alert(1200.5, fields=[{"field": "hostname", "value": "x"}]),
              alert(1200.6)]  # an alert that names nothing finds nothing
    fr = score(events, alerts)["field_recall"]
    assert fr["mac"] == {"uploads": 3, "found": 2, "recall": pytest.approx(2 / 3)}
    assert fr["ssid"] == {"uploads": 1, "found": 1, "recall": 1.0}
    assert fr["rtt"] == {"uploads": 1, "found": 0, "recall": 0.0}
    assert fr["hostname"] == {"uploads": 1, "found": 1, "recall": 1.0}
    assert fr["bssid"] == {"uploads": 0, "found": 0, "recall": None}


def test_alert_fields_forms():
    assert alert_fields({"fields": None}) == set()
    assert alert_fields({"fields": "mac"}) == {"mac"}
    assert alert_fields({"fields": ["mac", {"field": "ip"}]}) == {"mac", "ip"}


# --- flow-level AUCs --------------------------------------------------------------------------------

def test_flow_aucs_on_a_tiny_known_example():
    labels = {"p1": True, "p2": True, "n1": False, "n2": False}
    # Ranking p1 > n1 > p2 > n2: ROC-AUC = 3 of 4 pairs = 0.75; AP = (1/1 + 2/3) / 2.
    scores = [("p1", 0.0, 0.9), ("n1", 0.0, 0.8), ("p2", 0.0, 0.7), ("n2", 0.0, 0.1)]
    m = flow_metrics(scores, labels)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["tpr_at_fpr"] == pytest.approx(0.5)  # p1 alone above the first negative
    assert m["flows"] == 4 and m["positives"] == 2 and m["unknown_flows"] == 0


def test_flow_aucs_perfect_unknown_and_one_class():
    m = flow_metrics([("p", 0, 2.0), ("n", 0, 1.0), ("?", 0, 0.5)], {"p": True, "n": False})
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0 and m["tpr_at_fpr"] == 1.0
    assert m["unknown_flows"] == 1
    assert flow_metrics([("n", 0, 1.0)], {"n": False})["roc_auc"] is None


def test_tpr_at_fpr():
    assert tpr_at_fpr([0.0, 0.0005, 0.002, 1.0], [0.1, 0.4, 0.9, 1.0]) == 0.4
    assert tpr_at_fpr([0.01, 1.0], [0.5, 1.0]) == 0.0
    assert not math.isnan(tpr_at_fpr([0.0], [0.0]))
