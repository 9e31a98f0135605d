"""The accounts plugin's endpoints, one module per API family (scanned together)."""
