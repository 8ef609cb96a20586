"""Relay's shared library: event contracts, bus, storage, settings and telemetry.

Services import only themselves and this package.
"""
