"""The live side of the container backend: what runs inside each container (``python -m testbed.live ROLE``).

- ``executor.LiveExecutor`` performs SDK and background steps with real sockets (raw ARP, ICMP, mDNS, NBNS,
  DNS, HTTP), the counterpart of ``testbed.sim.executor.SimExecutor``.
- ``tv`` drives the SDK behaviour with it and records ground truth with ``TruthRecorder``, as the
  simulation does.
- ``responders`` make a device answer mDNS, NBNS and SSDP with its population identity; ``dns_server``
  is the resolver of the "wan" side and the gateway's forwarder.
"""

from testbed.live.executor import LiveExecutor

__all__ = ["LiveExecutor"]
