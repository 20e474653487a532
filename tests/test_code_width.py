"""Code on the site fits its block at a desktop width: no runnable line longer than ``LIMIT``.

Measured in Chromium at 1280 px (tests/browser/test_code_width.py re-checks it on the built
site): with ``docs/assets/extra.css`` a code block in the column holds 88 characters of its
12.4 px monospace, and a block inside an admonition or a collapsible exercise (11.3 px)
holds 89. A longer line scrolls sideways inside its block, and a reader loses its end. So every
line of every runnable fence (``python``, ``sh``, ``bash``) in ``docs/**/*.md`` and
``README.md`` is at most ``LIMIT`` characters long, counted after the fence's own indentation.
"""

from pathlib import Path

import pytest

from tests import mdblocks

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 88
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in [*(ROOT / "docs").rglob("*.md"), ROOT / "README.md"])


def too_long(text, limit=LIMIT):
    """``(line number, length)`` of every runnable code line longer than ``limit``; 1-based line numbers."""
    lines = text.splitlines(keepends=True)
    out = []
    for fence in mdblocks.scan(lines):
        if not mdblocks.runnable(fence):
            continue
        for k, line in enumerate(fence.body):
            body = line.rstrip("\n")
            body = body[len(fence.indent):] if body.startswith(fence.indent) else body.lstrip()
            if len(body) > limit:
                out.append((fence.start + 2 + k, len(body)))
    return out


@pytest.mark.parametrize("page", PAGES)
def test_every_code_line_fits_the_column(page):
    found = too_long((ROOT / page).read_text(encoding="utf-8"))
    assert found == [], f"{page}: lines longer than {LIMIT} characters (line, length): {found}"


def test_a_planted_long_line_is_caught_with_its_line_number():
    ok = "x = 1\n" + "y = " + "1 + " * 20 + "1\n"
    assert len(ok.splitlines()[1]) == 85
    page = f"# Page\n\n```python\n{ok}```\n\n    ```python\n    {'z = ' + '2' * 85}\n    ```\n"
    assert too_long(page) == [(9, 89)], "the indented fence's line is 89 long after its indentation"
    output = f"<!--pytest-codeblocks:expected-output-->\n```\n{'3' * 120}\n```\n"
    assert too_long(output) == [], "shown output is not code a reader copies"
    assert too_long(f"```sh\n{'echo ' * 20}\n```\n") == [(2, 100)]
