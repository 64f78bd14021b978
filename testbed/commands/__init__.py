"""CLI command functions registered by ``testbed.cli`` (kept here so the CLI module stays small)."""
