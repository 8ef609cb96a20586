"""relay_pricing."""
