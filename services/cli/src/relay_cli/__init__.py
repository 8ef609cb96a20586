"""relay_cli."""
