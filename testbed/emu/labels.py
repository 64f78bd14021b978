"""Names and labels every testbed Docker resource carries, so that it can be found and pruned."""

from __future__ import annotations

TESTBED_LABEL = "smarttv-testbed"  # value "1" on every container, network and image the testbed makes
RUN_LABEL = "smarttv-testbed.run"  # the run (lab) id
ROLE_LABEL = "smarttv-testbed.role"  # device, tv, router, collector, dns
NODE_LABEL = "smarttv-testbed.node"  # population id (h0003-d04) or service name
HASH_LABEL = "smarttv-testbed.content-hash"  # on the node image: hash of what it was built from

BASE_IMAGE = "tvtestbed-base:bookworm"
NODE_IMAGE = "tvtestbed-node"


def labels(run_id: str, **extra: str) -> dict[str, str]:
    """The labels of a resource of run ``run_id`` (``role=``, ``node=`` as extra keys)."""
    out = {TESTBED_LABEL: "1", RUN_LABEL: run_id}
    for key, value in extra.items():
        out[f"{TESTBED_LABEL}.{key}"] = value
    return out
