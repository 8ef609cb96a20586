"""``python -m relay_cli``."""

from relay_cli.main import main

raise SystemExit(main())
