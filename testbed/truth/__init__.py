"""Ground truth shared by both backends: truth events and flow labels."""

from testbed.truth.recorder import CommunityIds, TruthRecorder, event_id

__all__ = ["CommunityIds", "TruthRecorder", "event_id"]
