"""Sheets' settings (``APP_*``); workbooks live under ``APP_STATE_DIR/sheets``."""

from pathlib import Path

from relay_shared.settings import CommonSettings


class SheetsSettings(CommonSettings):
    service_name: str = "sheets"

    @property
    def sheets_dir(self) -> Path:
        return self.state_dir / "sheets"
