"""Ingest's pure decisions."""
