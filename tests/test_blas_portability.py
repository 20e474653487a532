"""Nothing printed may depend on the BLAS kernel or the thread count.

Every doc block, docstring example and figure is checked again under other OpenBLAS settings
(tests/blasruns.py says which and how). A page that prints a raw floating-point gap
(``1.2e-17``) passes at home and fails here, naming the setting and the block.
"""

import os
import subprocess
import sys

import pytest

from tests.blasruns import ROOT, SETTINGS, STARTED, doc_failures, environment, start_doc_tests, start_runs, stop_runs

FIGURES = ROOT / "docs" / "figures"


@pytest.fixture(scope="module")
def blas_runs(request):
    """The runs conftest.py started after collection (it also stops them), or else started here."""
    runs = request.config.stash.get(STARTED, None)
    if runs is not None:
        yield runs
        return
    runs = start_runs()
    yield runs
    stop_runs(runs)


@pytest.mark.parametrize("setting", SETTINGS)
def test_doc_blocks_and_docstring_examples_hold_under(setting, blas_runs):
    message = doc_failures(setting, *blas_runs[setting]["docs"])
    assert message == "", message


@pytest.mark.parametrize("setting", SETTINGS)
def test_figures_are_byte_identical_under(setting, blas_runs):
    process, out = blas_runs[setting]["figures"]
    log = out.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert process.wait() == 0, f"under {setting} scripts/figures.py failed:\n{log[-3000:]}"
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
