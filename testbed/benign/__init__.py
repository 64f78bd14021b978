"""Benign background traffic of every device: behaviours written once, as generators of steps."""

from testbed.benign.behaviours import BEHAVIOURS, BenignContext, behaviours_for, scanner_phone

__all__ = ["BEHAVIOURS", "BenignContext", "behaviours_for", "scanner_phone"]
