"""Nothing printed may depend on the BLAS kernel or the thread count.

Every doc block, claim, docstring example and figure is checked under three OpenBLAS settings,
each once, by the run that already executes it (tests/blasruns.py says which and how): the
main run, the chapters' notebooks, and the subprocesses started here for what is left. A page
that prints a raw floating-point gap (``1.2e-17``) passes at home and fails under the others,
naming the setting and the block; so does a sentence that ties such a number.
"""

import os
import subprocess
import sys

import pytest

from tests import blasruns
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


def _name(setting):
    return setting or "defaults"


@pytest.mark.parametrize("setting", [s for s in blasruns.ALL if s != blasruns.MAIN], ids=_name)
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
    assert "planted.md::line 3" in caught[blasruns.NOTEBOOKS]
    assert caught[blasruns.NOTEBOOKS].startswith("under OPENBLAS_CORETYPE=Prescott")
    if (os.cpu_count() or 1) > 1:  # with one core, one thread is the default
        assert "planted.md::line 3" in caught["OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"]


# ---------------------------------------------------------------- each check once per setting

def _chapters():
    from tests.test_notebooks import CHAPTERS

    return [f"docs/{src}" for src, _ in CHAPTERS]


@pytest.mark.parametrize("main", blasruns.ALL, ids=_name)
def test_every_page_and_docstring_is_checked_under_every_setting(main):
    """Whatever the main run's setting (make test: one thread; a bare pytest: the defaults)."""
    chapters = _chapters()
    covered = blasruns.coverage(main, blasruns.plan(main, chapters), chapters)
    missing = [(setting, path) for setting in blasruns.ALL for path in [*blasruns.pages(), "src"]
               if (setting, path) not in covered]
    assert missing == [], f"checked under no run: {missing}"
    assert len(blasruns.pages()) >= 10, "every chapter has runnable blocks"


def test_a_chapter_left_out_of_the_notebooks_is_seen():
    """Planted: the subprocesses skip the chapters under the notebooks' setting; a chapter the
    notebooks did not run would then be checked there by nothing."""
    chapters = _chapters()
    runs = blasruns.plan(blasruns.ONE_THREAD, chapters)
    covered = blasruns.coverage(blasruns.ONE_THREAD, runs, chapters[1:])
    assert (blasruns.NOTEBOOKS, chapters[0]) not in covered


def test_the_notebooks_run_every_chapter_the_plan_leaves_to_them():
    from tests import test_notebooks

    assert test_notebooks.execute.__defaults__ == (blasruns.NOTEBOOKS,)
    assert [f"docs/{src}" for src, _ in test_notebooks.CHAPTERS] == _chapters()


def test_the_makefile_names_the_one_thread_setting():
    assert f"ONE_THREAD := {blasruns.ONE_THREAD}" in (ROOT / "Makefile").read_text(encoding="utf-8")


@pytest.mark.skipif(blasruns.MAIN != blasruns.ONE_THREAD, reason="pytest runs under another setting")
def test_under_one_thread_numpy_and_torch_use_one_thread():
    """The variables were set before NumPy loaded OpenBLAS: both pools really have one thread."""
    import threadpoolctl
    import torch

    pools = threadpoolctl.threadpool_info()
    assert pools and all(pool["num_threads"] == 1 for pool in pools), pools
    assert torch.get_num_threads() == 1


# The planted fault of the notebooks: the same raw gap, and a sentence that ties it.
PLANTED_NOTEBOOK = PLANTED.replace('print(f"gap to the exact sum: {abs(x @ y - math.fsum(x * y)):.3e}")',
                                   'gap = abs(x @ y - math.fsum(x * y))\nprint(f"gap to the exact sum: {gap:.3e}")')


def test_a_planted_raw_gap_is_caught_by_the_notebooks(tmp_path):
    from tests import test_notebooks

    shown = subprocess.run([sys.executable, "-c", PLANTED_NOTEBOOK], env=environment(None), capture_output=True,
                           text=True, check=True).stdout
    gap = shown.split(": ")[1].strip()
    text = (f"# Planted\n\n```python\n{PLANTED_NOTEBOOK}```\n\n<!--pytest-codeblocks:expected-output-->\n"
            f"```\n{shown}```\n\nThe gap is {{{{{gap} = gap}}}}.\n")
    nb = test_notebooks.with_claims(test_notebooks.hook.convert(text, "planted.md"), text, "planted.md")
    home = test_notebooks.execute({"planted": nb}, tmp_path / "home", setting=None)["planted"]
    assert test_notebooks.problems(home, "planted.md") == [], "the page shows what the defaults print"
    there = test_notebooks.execute({"planted": nb}, tmp_path / "there")["planted"]
    found = test_notebooks.problems(there, "planted.md")
    assert found[0].startswith("planted.md:3: printed\ngap to the exact sum: "), found
    claim_line = text.splitlines().index(f"The gap is {{{{{gap} = gap}}}}.") + 1
    assert any(f"raised ClaimError: planted.md:{claim_line}: {{{{{gap} = gap}}}}: shows" in p for p in found), found
