"""Rewrites every golden case's expected/ and exit_code.txt from the current engine.

    uv run python tests/golden/regenerate.py

Review the diff before committing: the expected files are the spec made concrete.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from golden_cases import CASES, ROOT, output_files, run_case  # type: ignore[import-not-found]


def main() -> None:
    for name in CASES:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "out"
            code = run_case(name, out)
            expected = ROOT / name / "expected"
            shutil.rmtree(expected, ignore_errors=True)
            for relative, data in output_files(out).items():
                target = expected / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            (ROOT / name / "exit_code.txt").write_text(f"{code}\n")
            print(f"{name}: exit {code}")


if __name__ == "__main__":
    main()
