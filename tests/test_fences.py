"""The fence guard: no Python-looking block may escape the doc-tests, and no marker may switch one off."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_codeblocks import plugin as codeblocks_plugin

from tests.mdblocks import RUNNABLE, SKIP_ALLOWED, first_line, merge_chain_outputs, runnable, scan

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
PYTHONISH = re.compile(r"^\{?\.?(py|pycon|python\d?|ipython|sh|bash)\b", re.IGNORECASE)


def escaped_fences(path):
    """Every fence that looks like Python or shell but that pytest-codeblocks would skip."""
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = []
    for f in scan(lines):
        if f.role == "output" or runnable(f):
            continue
        if PYTHONISH.match(f.info) or (f.info.split() or [""])[0].lower() in RUNNABLE:
            bad.append(f"{path.name}:{f.start + 1}: fence {f.ticks}{f.info!r} is skipped by pytest-codeblocks")
    return bad


CHECKED_OUTPUT = {"cont", "expected-output", "expected-output-ignore-whitespace"}


def refused_markers(path, root, allowed=SKIP_ALLOWED):
    """Every marker line that would skip, xfail or importorskip a block (or the whole page).

    pytest-codeblocks reads any line that starts with ``<!--`` and names pytest (``pytest.mark.*``,
    ``pytest-codeblocks:skip``, ``:skipif(...)``, ``:importorskip(...)``, ``:expect-exception``,
    ``:skipfile``, ...). Only ``cont`` and ``expected-output`` are allowed, plus a skip before a
    shell block listed in ``allowed`` as (page, first line of the block) with its reason.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = scan(lines)
    inside = {i for f in fences for i in range(f.start, f.end + 1)}
    rel = path.relative_to(root).as_posix()
    bad = []
    for i, line in enumerate(lines):
        text = line.strip()
        if i in inside or not text.startswith("<!--") or "pytest" not in text.lower():
            continue
        m = re.fullmatch(r"<!--[-\s]*pytest-codeblocks:(.*?)[-\s]*-->", text)
        if m and m.group(1).strip() in CHECKED_OUTPUT:
            continue
        block = next((f for f in fences if f.start > i), None)
        if block and block.info in ("sh", "bash") and (rel, first_line(block.body)) in allowed:
            continue
        bad.append(f"{rel}:{i + 1}: {text} switches a block off; doc blocks must run (only shell blocks "
                   "listed in tests.mdblocks.SKIP_ALLOWED, with a reason, may skip)")
    return bad


def expected_block_count(path):
    """Runnable fences that start a block (a cont step joins the block before it)."""
    return sum(1 for f in scan(path.read_text(encoding="utf-8").splitlines()) if runnable(f) and f.role == "code")


def test_codeblocks_plugin_is_on(request):
    assert request.config.option.codeblocks, "pytest must run with --codeblocks (see pyproject addopts)"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_fence_escapes_execution(path):
    assert escaped_fences(path) == []


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_marker_switches_a_block_off(path):
    assert refused_markers(path, ROOT) == []


def test_the_skip_allow_list_is_short_and_names_real_shell_blocks():
    assert len(SKIP_ALLOWED) <= 3, "the allow-list is for a few shell blocks that must not run"
    for (page, first), reason in SKIP_ALLOWED.items():
        assert len(reason.split()) >= 3, f"{page}: say why `{first}` must not run"
        fences = [f for f in scan((ROOT / page).read_text(encoding="utf-8").splitlines()) if runnable(f)]
        assert any(f.info in ("sh", "bash") and first_line(f.body) == first for f in fences), \
            f"{page}: no sh/bash block starts with `{first}`"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_collected_blocks_match_fences(path):
    collected = [b for b in codeblocks_plugin.extract_from_file(path) if b.syntax in RUNNABLE]
    assert len(collected) == expected_block_count(path), f"{path.name}: pytest-codeblocks and the guard disagree"


PLANTED = """# Planted

```py
print("never runs")
```

~~~python
print("never runs either")
~~~

```python title="x.py"
print(1)
```

```python
print("runs")
```
"""


def test_guard_catches_planted_fences(tmp_path):
    page = tmp_path / "planted.md"
    page.write_text(PLANTED)
    assert escaped_fences(page) == [
        "planted.md:3: fence ```'py' is skipped by pytest-codeblocks",
        "planted.md:7: fence ~~~'python' is skipped by pytest-codeblocks",
        "planted.md:11: fence ```'python title=\"x.py\"' is skipped by pytest-codeblocks",
    ]
    assert expected_block_count(page) == 1


CHAIN = """```python
x = 2
print(x)
```

<!--pytest-codeblocks:expected-output-->
```
2
```

<!--pytest-codeblocks:cont-->
```python
print(x + 1)
```

<!--pytest-codeblocks:expected-output-->
```
3
```
"""


def _run(text, tmp_path):
    page = tmp_path / "chain.md"
    page.write_text(text)
    (block,) = codeblocks_plugin.extract_from_file(page)
    namespace, lines = {}, []
    exec(block.code, namespace | {"print": lambda *a: lines.append(" ".join(map(str, a)))})
    return block, "".join(line + "\n" for line in lines)


def test_each_step_of_a_chain_keeps_its_own_output(tmp_path):
    block, printed = _run(CHAIN, tmp_path)
    assert block.lineno == 1
    assert printed == block.expected_output  # 2, sentinel, 3


def test_a_wrong_step_output_fails_even_if_the_total_matches(tmp_path):
    swapped = CHAIN.replace("2\n```\n\n<!--pytest-codeblocks:cont", "\n```\n\n<!--pytest-codeblocks:cont")
    swapped = swapped.replace("```\n3\n```", "```\n2\n3\n```")
    block, printed = _run(swapped, tmp_path)
    assert printed != block.expected_output


def test_merge_leaves_single_blocks_alone():
    text = "```python\nprint(1)\n```\n\n<!--pytest-codeblocks:expected-output-->\n```\n1\n```\n"
    assert merge_chain_outputs(text) == text


MARKERS = [
    "<!--pytest.mark.skip-->",
    "<!-- pytest.mark.skip -->",
    '<!--pytest.mark.skipif(True, reason="planted")-->',
    "<!--pytest.mark.xfail-->",
    "<!--pytest.mark.xfail(strict=False)-->",
    "<!--pytest-codeblocks:skip-->",
    "<!--pytest-codeblocks:skipif(True)-->",
    "<!--pytest-codeblocks:importorskip(no_such_module_planted)-->",
    "<!--pytest-codeblocks:expect-exception-->",
    "<!--pytest-codeblocks:expect-error-->",
    "<!--pytest-codeblocks:skipfile-->",
]


@pytest.mark.parametrize("marker", MARKERS)
def test_guard_refuses_a_planted_marker(marker, tmp_path):
    page = tmp_path / "planted.md"
    page.write_text(f"# Planted\n\n{marker}\n```python\nprint(1)\n```\n\n```python\nprint(2)\n```\n")
    (message,) = refused_markers(page, tmp_path)
    assert message.startswith(f"planted.md:3: {marker} switches a block off")


def test_guard_allows_only_listed_shell_blocks(tmp_path):
    page = tmp_path / "planted.md"
    page.write_text("<!--pytest.mark.skip-->\n```sh\nmake serve\n```\n\n<!--pytest.mark.skip-->\n```python\nmake = 1\n```\n"
                    "\n<!-- a comment, not a marker -->\n````markdown\n<!--pytest.mark.skip-->\n````\n")
    allowed = {("planted.md", "make serve"): "starts a server that never exits"}
    assert refused_markers(page, tmp_path, allowed) == [
        "planted.md:6: <!--pytest.mark.skip--> switches a block off; doc blocks must run (only shell blocks "
        "listed in tests.mdblocks.SKIP_ALLOWED, with a reason, may skip)"]
    assert len(refused_markers(page, tmp_path, {})) == 2


RUN_PLANTED = """# Planted: every way to switch a block off

<!--pytest.mark.skip-->
```python
print("skip")
```

<!--pytest.mark.skipif(True, reason="planted")-->
```python
print("skipif")
```

<!--pytest.mark.xfail-->
```python
raise ValueError("xfail")
```

<!--pytest.mark.xfail-->
```python
print("xpass")
```

<!--pytest-codeblocks:skip-->
```python
print("codeblocks skip")
```

<!--pytest-codeblocks:importorskip(no_such_module_planted)-->
```python
print("importorskip")
```

<!--pytest-codeblocks:expect-exception-->
```python
raise ValueError("expect-exception")
```

```python
import pytest
pytest.skip("a skip inside the block")
```

<!--pytest.mark.skip-->
```sh
make serve
```

```python
print("runs")
```
"""


def test_a_skipped_or_xfailed_doc_block_fails_the_run(tmp_path):
    """The repository's conftest on a planted page: every switched-off block is a failure."""
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "tests").mkdir()
    mdblocks = (ROOT / "tests" / "mdblocks.py").read_text(encoding="utf-8")
    allow = '\nSKIP_ALLOWED[("planted.md", "make serve")] = "starts a server that never exits"\n'
    (tmp_path / "tests" / "mdblocks.py").write_text(mdblocks + allow, encoding="utf-8")
    shutil.copy(ROOT / "tests" / "blasruns.py", tmp_path / "tests" / "blasruns.py")  # conftest imports it
    (tmp_path / "planted.md").write_text(RUN_PLANTED, encoding="utf-8")
    (tmp_path / "skipfile.md").write_text("<!--pytest-codeblocks:skipfile-->\n```python\nprint(1)\n```\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-W", "ignore::DeprecationWarning",
                          "--continue-on-collection-errors",
                          "planted.md", "skipfile.md"], cwd=tmp_path, capture_output=True, text=True)
    summary = re.findall(r"^(PASSED|FAILED|ERROR) (\S+(?: \d+)?)", run.stdout, re.M)
    outcomes = {name: what for what, name in summary}
    assert run.returncode != 0
    assert outcomes == {  # a skip marker acts at set-up, so it fails there (ERROR); the rest fail in the call
        **{f"planted.md::line {n}": "ERROR" for n in (4, 9, 24)},
        **{f"planted.md::line {n}": "FAILED" for n in (14, 19, 29, 34, 38)},
        "planted.md::line 48": "PASSED",
        "skipfile.md": "ERROR",
    }, run.stdout[-3000:]
    assert "1 skipped" in run.stdout  # the allow-listed shell block, and nothing else
    for what in ("skipped", "xfailed", "xpassed"):
        assert f"this doc block was {what}; it must run and pass" in run.stdout
    assert "pytest-codeblocks found 0 blocks, the page has 1" in run.stdout
