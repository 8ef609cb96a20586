"""A development fake of Google Drive v3 and Sheets v4 (NOT for production).

The subset Relay's Google backend and the real ``gspread`` / ``gspread-asyncio`` clients call,
with OAuth for a service account whose key it generates, and per-user / per-project quotas
that answer 429. It lives in the package (not under ``tests/``) so that ``relay up
--google-fake`` and ``relay demo --google-fake`` can run the whole stack against it; tests and
``tests/bench/bench_sheets_google.py`` use it too. Nothing in the service imports it: the
service only sees ``APP_GOOGLE_API_URL`` and ``APP_SERVICE_ACCOUNT_FILE``.

- :mod:`~relay_sheets.devfake.google`: the server (:class:`FakeGoogle`, ``fake_google()``).
- :mod:`~relay_sheets.devfake.running`: served from a thread of its own
  (:class:`FakeGoogleThread`), and ``python -m relay_sheets.devfake`` to run it alone.
"""
