"""Golden files: realistic vendor profiles run through ``relay local-run``, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from .golden_cases import CASES, ROOT, output_files, run_case


def test_there_are_at_least_four_profiles() -> None:
    assert len(CASES) >= 4


@pytest.mark.parametrize("name", CASES)
def test_golden_case(name: str, tmp_path: Path) -> None:
    expected_dir = ROOT / name / "expected"
    expected = output_files(expected_dir)
    code = run_case(name, tmp_path / "out")
    assert code == int((ROOT / name / "exit_code.txt").read_text())
    actual = output_files(tmp_path / "out")
    assert sorted(actual) == sorted(expected)
    for relative, data in expected.items():
        assert actual[relative] == data, relative
