"""Services of the grades plugin, one module per upstream area (scanned at start-up)."""
