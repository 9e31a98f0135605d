"""Identity verification records (filled in by the accounts work)."""
COMMANDS = []
