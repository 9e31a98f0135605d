"""First-party feature plugins of openlms (one package each)."""
