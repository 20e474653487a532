"""Every doc block, docstring example and figure under three BLAS settings, each run once.

The settings (``ALL``): this machine's defaults (its CPU's OpenBLAS kernel, every core),
OpenBLAS's Prescott kernel on one thread (an old CPU: another vector width, no fused multiply-add,
so another summation order), and one thread (OpenBLAS and torch's OpenMP pool). Nothing printed may
depend on which. Each check runs once per setting, in whichever run already executes it:

- the main run (``MAIN``, the setting of this process: ``make test`` runs pytest under one
  thread) runs every doc block with its claims and every docstring example;
- every chapter's notebook runs under ``NOTEBOOKS`` (Prescott; tests/test_notebooks.py), its
  cells held to the page's shown output and its claims checked in the kernel;
- what neither covers runs again here, in subprocesses (``plan``): the docstring examples (and
  any page that is not a chapter) under the other settings, and the pages themselves under a
  setting that is neither ``MAIN`` nor ``NOTEBOOKS`` nor the defaults. A page's shown output is
  what the defaults print (its author pasted it from ``pytest docs/PAGE.md``), so the defaults
  are held by the page itself against the other two runs;
- tests/test_figures.py draws the figures under the defaults, and ``start_runs`` under the
  other two settings (one of them under another hash seed: ``FIGURE_HASH_SEEDS``).

tests/test_blas_portability.py waits for the subprocesses; conftest.py starts them right after
collection (or the fixture does, in a pytest-xdist worker), so they overlap the rest.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Prescott runs on one thread: its point is the kernel (another summation order), and threads are
# what the defaults and the one-thread run differ in. With two threads, OpenBLAS's waiting threads
# spin: on two cores shared with the other workers of `make test`, generalization.md took 226 s
# under Prescott on two threads against 20 s on one (measured with the machine busy).
ONE_THREAD_VARIABLES = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
PRESCOTT_VARIABLES = {"OPENBLAS_CORETYPE": "Prescott"} | ONE_THREAD_VARIABLES


def _name(variables):
    return " ".join(f"{k}={v}" for k, v in variables.items())


NOTEBOOKS = _name(PRESCOTT_VARIABLES)  # tests/test_notebooks.py runs every chapter's notebook under it
ONE_THREAD = _name(ONE_THREAD_VARIABLES)  # make test runs pytest itself under it
SETTINGS = {NOTEBOOKS: PRESCOTT_VARIABLES, ONE_THREAD: ONE_THREAD_VARIABLES}
BLAS_VARIABLES = ("OPENBLAS_", "GOTO_", "OMP_", "MKL_")
ALL = (None, *SETTINGS)  # None: this machine's defaults
# What `make test` checks besides tests/: the pages (pytest-codeblocks) and src (doctest).
DOC_PATHS = ["docs", "README.md", "src"]


def setting_of(environ=None):
    """The setting an environment runs under: None (the defaults), a key of ``SETTINGS``, or "other"."""
    environ = os.environ if environ is None else environ
    blas = {k: v for k, v in environ.items() if k.startswith(BLAS_VARIABLES)}
    if not blas:
        return None
    return next((name for name, values in SETTINGS.items() if values == blas), "other")


MAIN = setting_of()  # this process's: the main run's doc blocks and docstring examples run under it


def pages():
    """Every page with a runnable block, repository-relative: ``docs/**/*.md`` and ``README.md``."""
    from tests import mdblocks

    found = []
    for path in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if any(mdblocks.runnable(f) for f in mdblocks.scan(lines)):
            found.append(path.relative_to(ROOT).as_posix())
    return found


def plan(main=MAIN, chapters=None, notebooks=NOTEBOOKS):
    """``{setting: [paths]}``: what the subprocesses check again with pytest, so that with the main
    run (under ``main``) and the notebooks (every chapter, ``docs/<src>``, under ``notebooks``)
    every doc block, claim and docstring example is checked under every setting of ``ALL``."""
    if chapters is None:
        from tests.test_notebooks import CHAPTERS

        chapters = [f"docs/{src}" for src, _ in CHAPTERS]
    out = {}
    for setting in ALL:
        if setting == main:
            continue
        shown = setting is None and main != "other"  # the page shows what the defaults print
        paths = [page for page in pages() if not shown and not (setting == notebooks and page in chapters)]
        out[setting] = [*paths, "src"]
    return out


def coverage(main, runs, chapters, notebooks=NOTEBOOKS):
    """``{(setting, path): how}`` for every setting of ``ALL`` and every page and ``src``: which run
    checks it there (``runs`` as ``plan`` gives them); a missing pair is not checked."""
    out = {}
    for setting in ALL:
        for path in [*pages(), "src"]:
            how = []
            if setting == main:
                how.append("main run")
            if setting == notebooks and path in chapters:
                how.append("notebook")
            if setting is None and path != "src" and main != "other":
                how.append("shown output")
            if path in runs.get(setting, ()):
                how.append("subprocess")
            if how:
                out[setting, path] = how
    return out
FIXTURE = "blas_runs"  # the fixture of tests/test_blas_portability.py that waits for the runs
STARTED = pytest.StashKey[dict]()  # where conftest.py keeps the runs it started


def environment(setting, base=None):
    """``base`` (default: this environment) without BLAS variables, plus ``setting`` (None: defaults)."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith(BLAS_VARIABLES)}
    return env | {"PYTHONHASHSEED": "0"} | SETTINGS.get(setting, {})


def start_doc_tests(setting, paths, cwd, log):
    """Start pytest on ``paths`` (doc pages and modules) under ``setting``; output goes to ``log``."""
    env = environment(setting) | {"PYTHONPATH": str(Path(cwd) / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "--codeblocks", "--doctest-modules",
               "-p", "no:cacheprovider", *map(str, paths)]
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


# The figures drawn under one thread also run under another hash seed than every other draw (0),
# so the same byte comparison sees a figure whose bytes follow Python's hash order (set or dict
# order of strings): tests/test_figures.py draws them only once.
FIGURE_HASH_SEEDS = {ONE_THREAD: "1"}


def figure_environment(setting):
    """The environment scripts/figures.py draws under for ``setting`` (tests/test_figures.py: None)."""
    env = environment(setting, {"PATH": "/usr/bin:/bin"}) | {"PYTHONPATH": str(ROOT / "src")}
    return env | {"PYTHONHASHSEED": FIGURE_HASH_SEEDS.get(setting, "0")}


def start_figures(setting, out, log):
    """Start scripts/figures.py under ``setting``, writing the figures into ``out``."""
    env = figure_environment(setting)
    with open(log, "w") as handle:
        return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "figures.py"), str(out)],
                                env=env, stdout=handle, stderr=subprocess.STDOUT)


def start_runs():
    """Start every setting's doc tests (``plan``) and the figure builds at once:
    {setting: {name: (process, log)}}."""
    out = Path(tempfile.mkdtemp(prefix="blas-runs-"))
    runs = {}
    for k, (setting, paths) in enumerate(plan().items()):
        runs.setdefault(setting, {})["docs"] = (start_doc_tests(setting, paths, ROOT, out / f"docs{k}.log"),
                                                 out / f"docs{k}.log")
    for k, setting in enumerate(SETTINGS):
        runs.setdefault(setting, {})["figures"] = (start_figures(setting, out / f"figures{k}", out / f"figures{k}.log"),
                                                    out / f"figures{k}")
    return runs


def stop_runs(runs):
    """Kill what is still running (an interrupted session), reap every process, remove the logs."""
    for processes in runs.values():
        for process, _ in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
    for processes in runs.values():
        for _, path in processes.values():
            shutil.rmtree(Path(path).parent, ignore_errors=True)
            return


def doc_failures(setting, process, log):
    """'' when every block passed, else a message naming the setting and each failing block."""
    code = process.wait()
    output = Path(log).read_text(encoding="utf-8", errors="replace")
    if code == 0:
        return ""
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    details = output[output.find("= FAILURES ="):] if "= FAILURES =" in output else output[-4000:]
    return (f"under {setting} (exit code {code}) these doc blocks / docstring examples fail; a printed "
            "number depends on the BLAS kernel or thread count (print agreement to a stated "
            "tolerance instead):\n" + "\n".join(failed) + "\n\n" + details[:8000])
