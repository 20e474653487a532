"""Markdown fence scanning shared by the doc-test plugin (conftest.py) and the fence guard.

pytest-codeblocks lets a chain of ``<!--pytest-codeblocks:cont-->`` blocks carry only one
expected output. Our pages show an output after each step of a walk-through, so
``merge_chain_outputs`` rewrites a page before pytest-codeblocks reads it: every step's code
gets a sentinel ``print`` at its end and the chain's outputs are joined, with the same
sentinels, into one expected output after the chain's last step. Each step's printed text is
therefore still compared, exactly, with the text shown right under it.
"""

import re
from dataclasses import dataclass, field

RUNNABLE = {"python", "sh", "bash"}
MARKER = re.compile(r"<!--[-\s]*pytest-codeblocks:(.*?)[-\s]*-->")
SENTINEL = "~~~ next step ~~~"

# The only doc blocks allowed to carry a skip marker: shell blocks that must not run.
# Key: (page path from the repository root, e.g. "README.md", first line of the block); value: why it must not run. Keep it short.
SKIP_ALLOWED = {}


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


def merge_chain_outputs(text):
    """Rewrite a page so that a cont-chain with several shown outputs checks each of them."""
    lines = text.splitlines(keepends=True)
    edits = {}  # line index -> replacement lines
    for steps, outputs in chains(scan(lines)):
        if len(steps) < 2 or not outputs or steps[0].info != "python":
            continue
        expected = []
        for k, step in enumerate(steps):
            if k < len(steps) - 1:
                edits.setdefault(step.end, []).append(f'{step.indent}print("{SENTINEL}")\n')
            if k in outputs:
                expected += [_dedent(x, outputs[k].indent) for x in outputs[k].body]
            if k < len(steps) - 1:
                expected.append(SENTINEL + "\n")
        for out in outputs.values():
            for idx in range(out.start - 1, out.end + 1):
                edits.setdefault(idx, []).append(None)  # blank out marker and output block
        last = steps[-1]
        ind = last.indent
        block = [f"{ind}<!--pytest-codeblocks:expected-output-->\n", f"{ind}```\n"]
        block += [ind + x for x in expected] + [f"{ind}```\n"]
        edits.setdefault(last.end, []).append(("after", block))
    new = []
    for idx, line in enumerate(lines):
        todo = edits.get(idx, [])
        if None in todo:
            new.append("\n")
            continue
        before = [x for x in todo if isinstance(x, str)]
        after = [y for x in todo if isinstance(x, tuple) for y in x[1]]
        new += before + [line] + (["\n"] + after if after else [])
    return "".join(new)
