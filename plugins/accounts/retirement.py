"""The retirement pipeline (filled in by the accounts work)."""
COMMANDS = []
