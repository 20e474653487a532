"""Markdown fence scanning, one reading of a page shared by the build and the tests.

The doc tests (``conftest.py``), the notebook builder (``sitekit.notebooks``) and the claims
checker (``sitekit.claims``) must agree on which blocks a page has, which of them run, which
continue a walk-through and which output belongs to which block; if each read the page its own
way, a notebook or a checked number could silently drift from what pytest runs. So all of them
call ``scan`` here. It lives in ``src/sitekit`` because the build may not import from ``tests/``.
"""

import re
from dataclasses import dataclass, field

RUNNABLE = {"python", "sh", "bash"}
MARKER = re.compile(r"<!--[-\s]*pytest-codeblocks:(.*?)[-\s]*-->")


@dataclass
class Fence:
    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index of the closing fence line
    indent: str
    ticks: str  # "```" or "~~~" (or longer)
    info: str
    role: str = "code"  # "code", "cont" or "output"
    body: list = field(default_factory=list)


def scan(lines):
    """Return every fenced block of a Markdown file, with its role set by the marker before it."""
    fences, pending = [], None
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        m = MARKER.fullmatch(stripped)
        if m:
            word = m.group(1).strip()
            if word in ("cont", "expected-output", "expected-output-ignore-whitespace"):
                pending = "cont" if word == "cont" else "output"
            i += 1
            continue
        fm = re.match(r"^(\s*)(`{3,}|~{3,})(.*)$", lines[i].rstrip("\n"))
        if fm:
            indent, ticks, info = fm.group(1), fm.group(2), fm.group(3).strip()
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith(ticks):
                j += 1
            f = Fence(i, j, indent, ticks, info, pending or "code", lines[i + 1 : j])
            fences.append(f)
            pending = None
            i = j + 1
            continue
        i += 1
    return fences


def first_line(lines):
    """The first non-blank line of a block, stripped: how SKIP_ALLOWED names a block."""
    return next((line.strip() for line in lines if line.strip()), "")


def runnable(fence):
    """True for the fences pytest-codeblocks executes: backticks and an info string it runs."""
    return fence.ticks.startswith("`") and fence.info in RUNNABLE


def chains(fences):
    """Group runnable code fences into walk-throughs: [(steps, outputs_by_step)]."""
    out = []
    for f in fences:
        if f.role == "output":
            if out:
                out[-1][1][len(out[-1][0]) - 1] = f
        elif runnable(f):
            if f.role == "cont" and out:
                out[-1][0].append(f)
            else:
                out.append(([f], {}))
    return out


def _dedent(line, indent):
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" ")
