"""The doc checks again, in subprocesses, under other BLAS settings (used by tests/test_blas_portability.py).

The main run checks every doc block, docstring example and figure with this machine's default
OpenBLAS (its CPU's kernel, all cores). The same checks run again under other settings, as on
another machine: OpenBLAS's Prescott kernel (an old CPU: another vector width, no fused
multiply-add, so another summation order) and one thread (OpenBLAS and torch's OpenMP pool).

They take about as long as the doc checks themselves, so conftest.py starts them in the
background right after collection (``start_runs``), when the portability tests are selected,
and runs those tests last: the subprocesses overlap the rest of the suite.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "OPENBLAS_CORETYPE=Prescott": {"OPENBLAS_CORETYPE": "Prescott"},
    "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
}
BLAS_VARIABLES = ("OPENBLAS_", "GOTO_", "OMP_", "MKL_")
# What `make test` checks besides tests/: the pages (pytest-codeblocks) and src (doctest).
DOC_PATHS = ["docs", "README.md", "src"]
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


def start_figures(setting, out, log):
    """Start scripts/figures.py under ``setting``, writing the figures into ``out``."""
    env = environment(setting, {"PATH": "/usr/bin:/bin"}) | {"PYTHONPATH": str(ROOT / "src")}
    with open(log, "w") as handle:
        return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "figures.py"), str(out)],
                                env=env, stdout=handle, stderr=subprocess.STDOUT)


def start_runs():
    """Start every setting's doc tests and figure build at once: {setting: {name: (process, log)}}."""
    out = Path(tempfile.mkdtemp(prefix="blas-runs-"))
    runs = {}
    for k, setting in enumerate(SETTINGS):
        runs[setting] = {
            "docs": (start_doc_tests(setting, DOC_PATHS, ROOT, out / f"docs{k}.log"), out / f"docs{k}.log"),
            "figures": (start_figures(setting, out / f"figures{k}", out / f"figures{k}.log"), out / f"figures{k}"),
        }
    return runs


def stop_runs(runs):
    """Kill what is still running (an interrupted session), reap every process, remove the logs."""
    for processes in runs.values():
        for process, _ in processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()
    shutil.rmtree(next(iter(runs.values()))["docs"][1].parent, ignore_errors=True)


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
