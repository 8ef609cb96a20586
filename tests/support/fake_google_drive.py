"""Moved to :mod:`relay_sheets.devfake.drive`."""

from relay_sheets.devfake.drive import DriveApi

__all__ = ["DriveApi"]
