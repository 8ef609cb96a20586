"""Postgres adapters of the insights service."""
