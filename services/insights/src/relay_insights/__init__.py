"""relay_insights."""
