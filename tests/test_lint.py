"""``ruff check`` (pinned in constraints.txt; rules in ruff.toml) finds nothing in the Python we ship."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).parent / "ruff"
FOLDERS = ["src", "tests", "scripts", "hooks", "benchmarks"]


def ruff(*paths, cwd=ROOT):
    if not RUFF.is_file():
        pytest.fail(f"ruff is not installed at {RUFF} (it is pinned in constraints.txt; make install)")
    run = subprocess.run([str(RUFF), "check", "--no-cache", "--config", str(ROOT / "ruff.toml"),
                          "--output-format", "concise", *map(str, paths)], cwd=cwd, capture_output=True, text=True,
                         timeout=120)
    return run.returncode, run.stdout + run.stderr


def test_ruff_finds_nothing():
    code, out = ruff(*FOLDERS)
    assert code == 0, out


def test_ruff_catches_planted_faults(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("import sys\nimport os\n\n\ndef f(xs=[]):\n    return undefined_name\n")
    code, out = ruff(planted, cwd=tmp_path)
    assert code != 0
    for rule in ("F401", "I001", "B006", "F821"):
        assert rule in out, f"{rule} not reported:\n{out}"


def test_ruff_is_pinned():
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert "\nruff==" in pins, "ruff must have an exact pin in constraints.txt"
