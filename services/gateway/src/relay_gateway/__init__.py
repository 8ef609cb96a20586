"""relay_gateway."""
