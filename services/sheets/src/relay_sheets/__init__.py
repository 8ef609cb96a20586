"""relay_sheets."""
