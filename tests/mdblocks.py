"""The doc tests' rewrite of a page, and the blocks allowed to skip.

pytest-codeblocks lets a chain of ``<!--pytest-codeblocks:cont-->`` blocks carry only one
expected output. Our pages show an output after each step of a walk-through, so
``merge_chain_outputs`` rewrites a page before pytest-codeblocks reads it: every step's code
gets a sentinel ``print`` at its end and the chain's outputs are joined, with the same
sentinels, into one expected output after the chain's last step. Each step's printed text is
therefore still compared, exactly, with the text shown right under it.

The same rewrite lets the numbers in a page's sentences be checked without running anything
twice: the last block of a walk-through that has claims (``sitekit.claims``) ends with a line
that hands its namespace over, and ``conftest.py`` evaluates the claims in it.

The scanner itself (``scan``, ``chains``, ``runnable``…) is ``sitekit.mdblocks``, which the build
shares; its names are re-exported here for the tests that import them from this module.
"""

from sitekit.mdblocks import RUNNABLE, Fence, _dedent, chains, first_line, runnable, scan

__all__ = ["RUNNABLE", "SENTINEL", "SKIP_ALLOWED", "Fence", "chains", "first_line", "merge_chain_outputs",
           "runnable", "scan"]

SENTINEL = "~~~ next step ~~~"
KEEP = '__import__("sitekit.claims").claims.keep(globals())'

# The only doc blocks allowed to carry a skip marker: shell blocks that must not run.
# Key: (page path from the repository root, e.g. "README.md", first line of the block); value: why it must not run. Keep it short.
SKIP_ALLOWED = {}


def merge_chain_outputs(text, claims_after=()):
    """Rewrite a page so that a cont-chain with several shown outputs checks each of them.

    ``claims_after``: fence lines (1-based) of walk-throughs' last blocks whose claims are checked
    once they have run; each gets a last line handing its namespace to ``sitekit.claims.keep``.
    """
    lines = text.splitlines(keepends=True)
    edits = {}  # line index -> replacement lines
    fences = scan(lines)
    for fence in fences:
        if fence.start + 1 in claims_after:
            edits.setdefault(fence.end, []).append(f"{fence.indent}{KEEP}\n")
    for steps, outputs in chains(fences):
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
