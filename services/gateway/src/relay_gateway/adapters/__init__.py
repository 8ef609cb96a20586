"""Postgres adapters of the gateway's schema."""
