"""Every docstring example in src runs under doctest, standing alone, in `make test`.

pytest's own ``--doctest-modules`` over ``src`` (pyproject addopts and testpaths) does the running,
so a module added later is picked up with no list to update; conftest.py empties each example's
namespace, so an example that uses a name it does not import fails. These tests check that set-up
on a copy of the package with planted faults.
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dismantle"

NEW_MODULE = '''"""A module added after this test was written."""


def double(x):
    """Return twice x.

    Examples:
        >>> from dismantle.newmodule import double
        >>> double(21)
        43
    """
    return 2 * x
'''


def test_the_doctests_are_switched_on(request):
    assert request.config.option.doctestmodules, "pytest must run with --doctest-modules (pyproject addopts)"
    assert "src" in request.config.getini("testpaths"), "src must be in pyproject's testpaths"


def skip_directives(package):
    """Every `doctest: +SKIP` in the package's sources: an example that never runs."""
    return [f"{path.relative_to(package.parent).as_posix()}:{n}: {line.strip()}"
            for path in sorted(package.rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"doctest:.*\+SKIP", line)]


def test_no_docstring_example_is_skipped():
    assert skip_directives(PACKAGE) == []


def test_every_module_with_examples_has_some(request):
    """Each module's docstrings carry examples somewhere (an API without one is unfinished)."""
    bare = []
    for path in sorted(PACKAGE.glob("[!_]*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = [ast.get_docstring(n) or "" for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))]
        if not any(">>>" in d for d in docs):
            bare.append(path.name)
    assert bare == [], f"modules without a single docstring example: {bare}"


def _planted_copy(tmp_path):
    """The repository's test set-up and package, with three planted faults."""
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "tests").mkdir()
    for helper in ("mdblocks.py", "blasruns.py"):  # what conftest.py imports
        shutil.copy(ROOT / "tests" / helper, tmp_path / "tests" / helper)
    package = tmp_path / "src" / "dismantle"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    # 1. A wrong number in SGD's example: 1.0 - 0.1 * 0.5 is 0.95, not 0.96.
    optim = package / "sgd.py"
    text = optim.read_text(encoding="utf-8")
    sgd = text.index("class SGD")
    assert "array([ 0.95, -1.9 ])" in text[sgd:text.index('"""', text.index('"""', sgd) + 3)], \
        "SGD's example changed: update the planted fault"
    text = text[:sgd] + text[sgd:].replace("array([ 0.95, -1.9 ])", "array([ 0.96, -1.9 ])", 1)
    optim.write_text(text, encoding="utf-8")
    # 2. An example that uses names it does not import (Linear, Sequential) any more.
    module = package / "module.py"
    text = module.read_text(encoding="utf-8")
    import_line = re.search(r"\n *>>> from dismantle import Linear, Sequential\n", text)
    assert import_line, "Sequential's example changed: update the planted fault"
    module.write_text(text.replace(import_line.group(0), "\n"), encoding="utf-8")
    # 3. A new module, with a wrong number, that no list anywhere mentions.
    (package / "newmodule.py").write_text(NEW_MODULE, encoding="utf-8")
    # 4. An example switched off: every line of Linear's example skipped.
    linear = package / "linear.py"
    text = linear.read_text(encoding="utf-8")
    start = text.index("    Examples:", text.index("class Linear"))
    end = text.index('"""', start)
    example = re.sub(r"(>>> .*)", r"\1  # doctest: +SKIP", text[start:end])
    linear.write_text(text[:start] + example + text[end:], encoding="utf-8")
    return tmp_path


def test_planted_docstring_faults_fail(tmp_path):
    root = _planted_copy(tmp_path)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rf"], cwd=root, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0"})
    failed = sorted(line.split()[1] for line in run.stdout.splitlines() if line.startswith("FAILED"))
    assert failed == [
        "src/dismantle/linear.py::dismantle.linear.Linear",
        "src/dismantle/module.py::dismantle.module.Sequential",
        "src/dismantle/newmodule.py::dismantle.newmodule.double",
        "src/dismantle/sgd.py::dismantle.sgd.SGD",
    ], run.stdout[-3000:]
    assert "NameError(\"name 'Sequential' is not defined\")" in run.stdout
    assert "dismantle.linear.Linear: this docstring example was skipped; it must run and pass" in run.stdout
    found = skip_directives(root / "src" / "dismantle")
    assert found and all(re.fullmatch(r"dismantle/linear\.py:\d+: >>> .*  # doctest: \+SKIP", f) for f in found), found
    assert re.search(r"Expected:\s+array\(\[ 0\.96, -1\.9 \]\)\s+Got:\s+array\(\[ 0\.95, -1\.9 \]\)", run.stdout)

