"""The digits' test pile is scored only in a chapter's "drawer": Training's last section, and
the section of "A CNN on the digits" that scores its finished CNNs.

`dm.load_digits()` holds out a fifth of the images. Training cuts them, with a seeded
permutation `cut`, into a validation pile (`cut[:180]`), scored as often as a page likes, and the
test pile (`cut[180:]`), the locked drawer that Training opens once, in its last section before
the exercises. A score taken anywhere else would make the drawer a second validation set, and
Training's closing claim ("no weight and no decision of this chapter ever saw it") false. A later
chapter that finishes a new model may open the drawer for it, in one section listed in
``DRAWERS`` ("A CNN on the digits": its drawer scores the final CNN once, and shows the stored
scores of the first opening, for the round-1 choice, beside it).

So every Python block of every page (folded solutions included) and of the README is read with
`ast`, and outside that one section:

* the held-out returns of `load_digits()` (its 2nd and 4th) must be bound to `_` or to a name
  containing `held`;
* a held-out name may only be measured (`len(...)`, `.shape`, `.dtype`) or cut with `[cut[:180]]`, the validation
  pile: any other use (passing it whole to a model or to `evaluate`, `cut[180:]`, ...) touches
  the test pile;
* the names `x_test` and `y_test` do not appear at all.

Inside each drawer section, the test pile must be built once and scored once.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

from tests.mdblocks import runnable, scan

ROOT = Path(__file__).resolve().parents[1]
TEST_NAMES = {"x_test", "y_test"}
DRAWER_PAGE, DRAWER_HEADING = "docs/training.md", "## The drawer, opened once"
# page -> the heading of its one drawer section (Training's must be its last before Exercises)
DRAWERS = {DRAWER_PAGE: DRAWER_HEADING, "docs/cnn-digits.md": "## The drawer, opened a second time"}


def pages():
    return sorted(ROOT.glob("docs/**/*.md")) + [ROOT / "README.md"]


def drawer_lines(lines, heading=DRAWER_HEADING):
    """0-based line range of a drawer section: from its heading to the next heading of its level
    or above. Training's must be the last before Exercises."""
    level = len(heading) - len(heading.lstrip("#"))
    starts = [i for i, line in enumerate(lines) if line.strip() == heading]
    assert len(starts) == 1, f"one drawer section {heading!r}, found {len(starts)}"
    start = starts[0]
    in_code = {i for f in scan(lines) for i in range(f.start, f.end + 1)}  # a `# comment` is no heading
    end = next((i for i in range(start + 1, len(lines))
                if i not in in_code and re.match(rf"#{{1,{level}}} ", lines[i])), len(lines))
    if heading == DRAWER_HEADING:
        assert lines[end].strip() == "## Exercises", "the drawer must be Training's last section"
    return range(start, end)


def _is_validation_cut(node):
    """`something[:180]`: the first 180 of the seeded cut are the validation pile."""
    s = node.slice
    return (
        isinstance(s, ast.Subscript)
        and isinstance(s.slice, ast.Slice)
        and s.slice.lower is None
        and s.slice.step is None
        and isinstance(s.slice.upper, ast.Constant)
        and s.slice.upper.value == 180
    )


def _held_targets(tree):
    """Names bound to load_digits()'s held-out returns, and any other name bound there (a fault)."""
    held, faults = set(), []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name != "load_digits" or not isinstance(node.targets[0], ast.Tuple):
            continue
        for k in (1, 3):
            target = node.targets[0].elts[k]
            if not isinstance(target, ast.Name):
                faults.append((node.lineno, "held-out data bound to a non-name"))
            elif target.id != "_" and "held" not in target.id:
                faults.append((node.lineno, f"held-out data bound to {target.id!r}, not *held*"))
            elif target.id != "_":
                held.add(target.id)
    return held, faults


def touches(code, held):
    """[(line in the block, why)] for every use of the test pile in `code`; `held` grows."""
    tree = ast.parse(code)
    new, faults = _held_targets(tree)
    held |= new
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Name):
            continue
        if node.id in TEST_NAMES:
            faults.append((node.lineno, f"uses {node.id}"))
        elif node.id in held and not isinstance(node.ctx, ast.Store):
            parent = parents.get(node)
            is_len = isinstance(parent, ast.Call) and getattr(parent.func, "id", "") == "len"
            is_len = is_len or isinstance(parent, ast.Attribute) and parent.attr in ("shape", "dtype")
            is_val = isinstance(parent, ast.Subscript) and parent.value is node and _is_validation_cut(parent)
            if not (is_len or is_val):
                faults.append((node.lineno, f"uses {node.id} beyond the validation cut"))
    return faults


def page_faults(path, text):
    """Every use of the test pile on one page outside Training's drawer: (page:line, why)."""
    lines = text.splitlines()
    allowed = drawer_lines(lines, DRAWERS[path]) if path in DRAWERS else range(0)
    held, faults = set(), []
    for fence in scan(lines):
        if fence.role == "output" or not runnable(fence) or fence.info != "python":
            continue
        code = textwrap.dedent("\n".join(fence.body))
        for line, why in touches(code, held):
            if fence.start not in allowed:
                faults.append((f"{path}:{fence.start + 1 + line}", why))
    return faults


def test_no_page_scores_the_test_pile_outside_a_drawer():
    faults = []
    for page in pages():
        rel = page.relative_to(ROOT).as_posix()
        faults += page_faults(rel, page.read_text(encoding="utf-8"))
    assert faults == [], f"the test pile is touched outside a drawer section ({sorted(DRAWERS)}): {faults}"


def test_the_cnn_chapters_drawer_builds_and_scores_the_test_pile_once():
    page = "docs/cnn-digits.md"
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    code = "\n".join(lines[i] for i in drawer_lines(lines, DRAWERS[page]))
    assert len(re.findall(r"x_held\[cut\[180:\]\]", code)) == 1, "the drawer builds the test pile once"
    assert len(re.findall(r"dm\.evaluate\([^\n]*x_held\[cut\[180:\]\]", code)) == 1, "and scores it once"


def test_a_second_drawer_section_or_a_score_outside_it_is_caught():
    page = "docs/cnn-digits.md"
    text = (ROOT / page).read_text(encoding="utf-8")
    assert page_faults(page, text) == []
    # the drawer's scoring line, planted before the drawer, is a fault on "A CNN on the digits" too
    score = "print(dm.evaluate(cnn, loss_fn, images(x_held[cut[180:]]), y_held[cut[180:]]))"
    early = text.replace("## Choosing on the validation pile", "## Choosing on the validation pile\n\n"
                         "```python\n" + score + "\n```", 1)
    assert {why for _, why in page_faults(page, early)} == {
        "uses x_held beyond the validation cut", "uses y_held beyond the validation cut"}
    # two drawer headings on one page are refused
    twice = text.replace("## Choosing on the validation pile", "## The drawer, opened a second time", 1)
    with pytest.raises(AssertionError, match="one drawer section"):
        page_faults(page, twice)


def test_trainings_drawer_builds_and_scores_the_test_pile_once():
    lines = (ROOT / DRAWER_PAGE).read_text(encoding="utf-8").splitlines()
    drawer = [lines[i] for i in drawer_lines(lines)]
    code = "\n".join(drawer)
    assert len(re.findall(r"x_held\[cut\[180:\]\]", code)) == 1, "the drawer builds the test pile once"
    assert len(re.findall(r"dm\.evaluate\([^)]*x_test, y_test\)", code)) == 1, "and scores it once"


# Planted faults: each is a small edit a writer might make; the check must name its line.
INIT_LIKE = """# Init

```python
import dismantle as dm

x_train, x_held, y_train, y_held = dm.load_digits()
cut = np.random.default_rng(2).permutation(len(y_held))
x_val, y_val = x_held[cut[:180]], y_held[cut[:180]]
{planted}
```
"""


def _planted(line):
    return page_faults("docs/initialization.md", INIT_LIKE.format(planted=line))


def test_the_clean_page_passes():
    assert _planted("print(len(x_val))") == []


def test_planted_evaluate_on_the_whole_held_out_set_is_caught():
    assert sorted(_planted("dm.evaluate(model, loss_fn, x_held, y_held)")) == [
        ("docs/initialization.md:9", "uses x_held beyond the validation cut"),
        ("docs/initialization.md:9", "uses y_held beyond the validation cut"),
    ]


def test_planted_test_cut_is_caught():
    faults = _planted("acc = (model(x_held[cut[180:]]).argmax(1) == y_held[cut[180:]]).mean()")
    assert sorted(why for _, why in faults) == [
        "uses x_held beyond the validation cut", "uses y_held beyond the validation cut"]


def test_planted_test_names_are_caught():
    page = INIT_LIKE.format(planted="").replace("x_held, y_train, y_held", "x_test, y_train, y_test")
    whys = {why for _, why in page_faults("docs/initialization.md", page)}
    assert "held-out data bound to 'x_test', not *held*" in whys and "uses x_test" in whys


def test_planted_score_in_a_folded_solution_is_caught():
    page = INIT_LIKE + """
??? success "Solution"
    ```python
    print(dm.evaluate(model, loss_fn, x_held, y_held))
    ```
"""
    faults = page_faults("docs/initialization.md", page.format(planted=""))
    assert [f[0] for f in faults] == ["docs/initialization.md:14"] * 2


def test_the_drawer_is_exempt_only_on_training_and_only_in_its_last_section():
    text = (ROOT / DRAWER_PAGE).read_text(encoding="utf-8")
    assert page_faults(DRAWER_PAGE, text) == []
    # the drawer's scoring line, planted in the section before it, is a fault on Training too
    score = "test_loss, test_accuracy = dm.evaluate(final_model, loss_fn, x_test, y_test)"
    early = text.replace("SEEDS, DECAYS = ", score + "\nSEEDS, DECAYS = ", 1)
    assert {why for _, why in page_faults(DRAWER_PAGE, early)} == {"uses x_test", "uses y_test"}
    # and on any other page the drawer's own code is a fault
    assert len(page_faults("docs/generalization.md", text)) >= 4
