"""The fence guard: no Python-looking block may escape the doc-tests."""

import re
from pathlib import Path

import pytest
from pytest_codeblocks import plugin as codeblocks_plugin

from tests.mdblocks import RUNNABLE, merge_chain_outputs, runnable, scan

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


def expected_block_count(path):
    """Runnable fences that start a block (a cont step joins the block before it)."""
    return sum(1 for f in scan(path.read_text(encoding="utf-8").splitlines()) if runnable(f) and f.role == "code")


def test_codeblocks_plugin_is_on(request):
    assert request.config.option.codeblocks, "pytest must run with --codeblocks (see pyproject addopts)"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_fence_escapes_execution(path):
    assert escaped_fences(path) == []


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
