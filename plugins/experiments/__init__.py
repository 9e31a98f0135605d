"""Experiments plugin (placeholder, replaced below)."""
name = "experiments"
version = "0.1.0"
requires = ()
