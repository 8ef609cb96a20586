"""``python -m relay_cli``."""

from relay_cli.main import run

run()
