"""smarttv-testbed: recreate, safely and with exact ground truth, how smart-TV telemetry SDKs sweep home LANs."""

__version__ = "0.1.0"
