"""The column reader trims exactly what ``str.strip()`` trims (the shared reader's rule)."""

from __future__ import annotations

import sys

from relay_shared.merged_columns import WHITESPACE


def test_the_whitespace_list_is_every_code_point_str_strip_removes() -> None:
    every = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert list(WHITESPACE) == every
