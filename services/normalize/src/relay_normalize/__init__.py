"""relay_normalize."""
