"""Nothing printed may depend on the BLAS kernel or the thread count.

The main run checks every doc block, docstring example and figure with this machine's default
OpenBLAS (its CPU's kernel, all cores). Here the same checks run again in subprocesses under
other settings, as on another machine: OpenBLAS's Prescott kernel (an old CPU: other vector
width, no fused multiply-add, so another summation order) and one thread. A page that prints a
raw floating-point gap (``1.2e-17``) passes at home and fails here, naming the setting and the
block. All subprocesses start together, so the extra time is about one run, not four.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
SETTINGS = {
    "OPENBLAS_CORETYPE=Prescott": {"OPENBLAS_CORETYPE": "Prescott"},
    "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
}
BLAS_VARIABLES = ("OPENBLAS_", "GOTO_", "OMP_", "MKL_")
# What `make test` checks besides tests/: the pages (pytest-codeblocks) and src (doctest).
DOC_PATHS = ["docs", "README.md", "src"]


def environment(setting, base=None):
    """``base`` (default: this environment) without BLAS variables, plus ``setting`` (None: defaults)."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith(BLAS_VARIABLES)}
    return env | {"PYTHONHASHSEED": "0"} | SETTINGS.get(setting, {})


def start_doc_tests(setting, paths, cwd, log):
    """Start pytest on ``paths`` (doc pages and modules) under ``setting``; output goes to ``log``."""
    env = environment(setting) | {"PYTHONPATH": str(cwd / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "--codeblocks", "--doctest-modules",
               "-p", "no:cacheprovider", *map(str, paths)]
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def doc_failures(setting, process, log):
    """'' when every block passed, else a message naming the setting and each failing block."""
    code = process.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    if code == 0:
        return ""
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    details = output[output.find("= FAILURES ="):] if "= FAILURES =" in output else output[-4000:]
    return (f"under {setting} (exit code {code}) these doc blocks / docstring examples fail; a printed "
            "number depends on the BLAS kernel or thread count (print agreement to a stated "
            "tolerance instead):\n" + "\n".join(failed) + "\n\n" + details[:8000])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start every setting's doc tests and figure build at once; tests wait for their own."""
    out = tmp_path_factory.mktemp("blas")
    started = {}
    for k, setting in enumerate(SETTINGS):
        docs_log, fig_log, fig_dir = out / f"docs{k}.log", out / f"figures{k}.log", out / f"figures{k}"
        docs = start_doc_tests(setting, DOC_PATHS, ROOT, docs_log)
        env = environment(setting, {"PATH": "/usr/bin:/bin"}) | {"PYTHONPATH": str(ROOT / "src")}
        with fig_log.open("w") as log:
            figures = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "figures.py"), str(fig_dir)],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        started[setting] = (docs, docs_log, figures, fig_log, fig_dir)
    yield started
    for docs, _, figures, _, _ in started.values():
        for process in (docs, figures):
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("setting", SETTINGS)
def test_doc_blocks_and_docstring_examples_hold_under(setting, runs):
    docs, log, *_ = runs[setting]
    message = doc_failures(setting, docs, log)
    assert message == "", message


@pytest.mark.parametrize("setting", SETTINGS)
def test_figures_are_byte_identical_under(setting, runs):
    *_, figures, log, out = runs[setting]
    assert figures.wait() == 0, f"under {setting} scripts/figures.py failed:\n{log.read_text()[-3000:]}"
    made = sorted(p.name for p in out.glob("*.svg"))
    assert made == sorted(p.name for p in FIGURES.glob("*.svg"))
    differ = [name for name in made if (out / name).read_bytes() != (FIGURES / name).read_bytes()]
    assert differ == [], f"under {setting} these figures come out different (their bytes depend on BLAS): {differ}"


# The planted fault: the gap between NumPy's float64 dot product of 100,000 terms and the
# correctly rounded sum. Its size (about 1e-13) depends on the kernel's summation order: each
# kernel and thread count adds the terms in another order.
PLANTED = """\
import math
import numpy as np

rng = np.random.default_rng(0)
x, y = rng.standard_normal(100_000), rng.standard_normal(100_000)
print(f"gap to the exact sum: {abs(x @ y - math.fsum(x * y)):.3e}")
"""


def test_a_planted_raw_gap_is_caught(tmp_path):
    # The page shows what the block prints with this machine's defaults, as its author would paste it.
    shown = subprocess.run([sys.executable, "-c", PLANTED], env=environment(None), capture_output=True,
                           text=True, check=True).stdout
    page = tmp_path / "planted.md"
    page.write_text(f"# Planted\n\n```python\n{PLANTED}```\n\n<!--pytest-codeblocks:expected-output-->\n"
                    f"```\n{shown}```\n")
    home = subprocess.run([sys.executable, "-m", "pytest", "-q", "--codeblocks", "-p", "no:cacheprovider",
                           str(page)], cwd=tmp_path, env=environment(None), capture_output=True, text=True)
    assert home.returncode == 0, "the planted page must pass with the defaults, like linearity.md did\n" + home.stdout
    logs = {setting: tmp_path / f"{k}.log" for k, setting in enumerate(SETTINGS)}
    started = {setting: start_doc_tests(setting, [page], tmp_path, log) for setting, log in logs.items()}
    caught = {setting: doc_failures(setting, process, logs[setting]) for setting, process in started.items()}
    assert "planted.md::line 3" in caught["OPENBLAS_CORETYPE=Prescott"]
    assert caught["OPENBLAS_CORETYPE=Prescott"].startswith("under OPENBLAS_CORETYPE=Prescott")
    if (os.cpu_count() or 1) > 1:  # with one core, one thread is the default
        assert "planted.md::line 3" in caught["OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"]
