"""Moved to :mod:`relay_sheets.devfake.google` (``relay up --google-fake`` serves it too)."""

from relay_sheets.devfake.google import FakeGoogle, Logged, Quotas, a1, fake_google

__all__ = ["FakeGoogle", "Logged", "Quotas", "a1", "fake_google"]
