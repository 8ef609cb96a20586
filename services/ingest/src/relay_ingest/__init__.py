"""relay_ingest."""
