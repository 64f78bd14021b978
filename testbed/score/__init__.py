"""Scoring of detector alerts against a run's ground truth (DESIGN.md, "Detectors and scoring").

``score_run(run_dir, alerts, detector_name, flow_scores=None)`` gives the scores.json content; the pure
functions below it take events, alerts, TV addresses, household count and duration and read no file.
"""

from testbed.score.flows import TARGET_FPR, flow_labels, flow_metrics, tpr_at_fpr
from testbed.score.incidents import INCIDENT_GAP, Incident, alert_source, group_incidents
from testbed.score.matching import DEFAULT_DELTA, EventMatcher, TvAddress, match_alerts, tv_addresses
from testbed.score.metrics import (
    LEAK_FIELDS,
    NOT_OBSERVABLE,
    alert_fields,
    event_recall,
    f1_score,
    field_recall,
    first_match_ts,
    fp_per_home_hour,
    incident_precision,
    pre_exfil_rate,
    quantiles,
    score_events,
)
from testbed.score.run_truth import RunTruth, check_run_dir, load_run_truth, score_run

__all__ = [
    "DEFAULT_DELTA",
    "INCIDENT_GAP",
    "LEAK_FIELDS",
    "NOT_OBSERVABLE",
    "TARGET_FPR",
    "EventMatcher",
    "Incident",
    "RunTruth",
    "TvAddress",
    "alert_fields",
    "alert_source",
    "check_run_dir",
    "event_recall",
    "f1_score",
    "field_recall",
    "first_match_ts",
    "flow_labels",
    "flow_metrics",
    "fp_per_home_hour",
    "group_incidents",
    "incident_precision",
    "load_run_truth",
    "match_alerts",
    "pre_exfil_rate",
    "quantiles",
    "score_events",
    "score_run",
    "tpr_at_fpr",
    "tv_addresses",
]
