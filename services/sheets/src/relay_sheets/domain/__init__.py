"""Sheets' pure decisions: workbook layout, row upserts, rows from events."""
