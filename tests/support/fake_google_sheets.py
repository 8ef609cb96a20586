"""Moved to :mod:`relay_sheets.devfake.sheets`."""

from relay_sheets.devfake.sheets import SheetsApi

__all__ = ["SheetsApi"]
