"""``python -m relay_sheets.devfake``: the fake Google alone (see ``running.main``)."""

from relay_sheets.devfake.running import main

raise SystemExit(main())
