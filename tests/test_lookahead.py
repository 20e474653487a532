"""No chapter looks ahead: its code uses only the dismantle names it or an earlier chapter introduces.

Each chapter's front matter lists the names it introduces (``tests/lookahead.py`` says how a name
is written and how code is read). Reading order is the nav's parts, in order. The rules:

* every chapter has ``introduces:`` in its front matter, and every name there exists in dismantle;
* a name is introduced by one chapter only, and that chapter's own code uses it;
* every runnable Python block of a chapter (folded exercise solutions included) uses only names
  introduced by that chapter or an earlier one;
* an API page's docstring example may use the object it documents, plus names introduced no later
  than the chapter that introduces that object (any chapter's, if none does).

A leak that is known and being fixed is listed in ``KNOWN_LEAKS`` with who fixes it; the list must
match the leaks found exactly, so a new leak fails and a fixed one must be struck off.
"""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import dismantle
from tests.lookahead import Reader, front_matter, page_uses, resolve
from tests.test_chapter_links import nav_parts

ROOT = Path(__file__).resolve().parents[1]

# (page, name) -> why it is still there. Strike an entry off when its leak is fixed.
KNOWN_LEAKS = {
}


def chapters(root=ROOT):
    """The chapter pages (docs-relative), in reading order: the pages of the nav's parts."""
    return [page for _, pages in nav_parts(root / "mkdocs.yml") for page in pages]


def read(docs, order):
    return {page: (docs / page).read_text(encoding="utf-8") for page in order}


def problems(texts, order, examples=()):
    """(errors, leaks) for the pages ``texts`` ({page: Markdown}) read in ``order``.

    errors: every broken rule as a sentence; leaks: (page, name, sentence) for each use of a name
    that only a later chapter introduces.
    """
    errors, leaks = [], []
    introduced = {}  # id(object) -> (chapter index, name)
    for i, page in enumerate(order):
        meta = front_matter(texts[page])
        if not isinstance(meta.get("introduces"), list):
            errors.append(f"{page}: no `introduces: [...]` list in its front matter")
            continue
        for name in meta["introduces"]:
            obj = resolve(str(name))
            if obj is None:
                errors.append(f"{page}: introduces {name}, which dismantle does not have")
            elif id(obj) in introduced:
                errors.append(f"{page}: introduces {name}, already introduced by {order[introduced[id(obj)][0]]}")
            else:
                introduced[id(obj)] = (i, name)
    for i, page in enumerate(order):
        used = set()
        for use in page_uses(texts[page]):
            obj = resolve(use.name)
            used.add(id(obj))
            where = f"{page}:{use.line}"
            if obj is None or id(obj) not in introduced:
                errors.append(f"{where}: uses {use.name}, which no chapter introduces")
            elif introduced[id(obj)][0] > i:
                leaks.append((page, use.name, f"{where}: uses {use.name}, "
                                              f"introduced only later by {order[introduced[id(obj)][0]]}"))
        declared = front_matter(texts[page]).get("introduces") or []
        errors += [f"{page}: introduces {name} but its code never uses it"
                   for name in declared if resolve(str(name)) is not None and id(resolve(str(name))) not in used]
    for owner, uses in examples:
        allowed = introduced.get(id(owner), (len(order), None))[0]
        for use in uses:
            obj = resolve(use.name)
            if obj is owner:
                continue
            if obj is None or id(obj) not in introduced:
                errors.append(f"API example of {owner.__qualname__}: uses {use.name}, which no chapter introduces")
            elif introduced[id(obj)][0] > allowed:
                errors.append(f"API example of {owner.__qualname__}: uses {use.name}, introduced by "
                              f"{order[introduced[id(obj)][0]]}, after {order[allowed]} introduces "
                              f"{owner.__qualname__}")
    return errors, leaks


def api_examples(package=dismantle):
    """[(documented object, [Use])] for every docstring example in the package."""
    out = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for test in doctest.DocTestFinder().find(module):
            if test.examples:
                source = "".join(example.source for example in test.examples)
                out.append((_object(test.name), Reader().uses(source)))
    return out


def _object(dotted):
    """dismantle.linear.Linear.forward -> the Linear class: the public object a docstring belongs to."""
    parts = dotted.split(".")
    module = importlib.import_module(".".join(parts[:2]))
    return getattr(module, parts[2]) if len(parts) > 2 else module


def test_every_chapter_uses_only_what_it_or_an_earlier_chapter_introduced():
    order = chapters()
    assert len(order) >= 9 and order[0] == "linearity.md"
    errors, leaks = problems(read(ROOT / "docs", order), order, api_examples())
    assert errors == []
    found = {(page, name) for page, name, _ in leaks}
    assert sorted(found - set(KNOWN_LEAKS)) == [], "\n".join(m for p, n, m in leaks if (p, n) not in KNOWN_LEAKS)
    assert sorted(set(KNOWN_LEAKS) - found) == [], "fixed: strike these off KNOWN_LEAKS"


# ---------------------------------------------------------------- planted faults are caught

def test_a_call_to_fit_moved_into_linearity_is_caught():
    order = chapters()
    texts = read(ROOT / "docs", order)
    text = texts["linearity.md"]
    first = text.index("```python\n")
    line = text[:first].count("\n") + 2
    texts["linearity.md"] = text[:first] + "```python\nimport dismantle as dm\ndm.fit\n" + text[first + 10:]
    errors, leaks = problems(texts, order)
    assert [m for p, n, m in leaks if p == "linearity.md"] == [
        f"linearity.md:{line + 1}: uses fit, introduced only later by training.md"]


CODE = "```python\n{}\n```\n"


@pytest.mark.parametrize("pages, error", [
    ({"a.md": "# A\n", "b.md": "---\nintroduces: []\n---\n"},
     "a.md: no `introduces: [...]` list in its front matter"),
    ({"a.md": "---\nintroduces: [Lineer]\n---\n" + CODE.format("1"), "b.md": "---\nintroduces: []\n---\n"},
     "a.md: introduces Lineer, which dismantle does not have"),
    ({"a.md": "---\nintroduces: [Linear]\n---\n" + CODE.format("import dismantle as dm\ndm.Linear"),
      "b.md": "---\nintroduces: [linear.Linear]\n---\n" + CODE.format("import dismantle\ndismantle.linear.Linear")},
     "b.md: introduces linear.Linear, already introduced by a.md"),
    ({"a.md": "---\nintroduces: [Linear]\n---\n" + CODE.format("1"), "b.md": "---\nintroduces: []\n---\n"},
     "a.md: introduces Linear but its code never uses it"),
    ({"a.md": "---\nintroduces: []\n---\n" + CODE.format("import dismantle as dm\ndm.Linear(3, 2)"),
      "b.md": "---\nintroduces: []\n---\n"},
     "a.md:6: uses Linear, which no chapter introduces"),
    ({"a.md": "---\nintroduces: []\n---\n" + CODE.format("from dismantle import functional as F\nF.nope(1)"),
      "b.md": "---\nintroduces: []\n---\n"},
     "a.md:6: uses functional.nope, which no chapter introduces"),
])
def test_a_planted_front_matter_fault_is_caught(pages, error):
    order = list(pages)
    errors, _ = problems(pages, order)
    assert error in errors


@pytest.mark.parametrize("code, name", [
    ("import dismantle as dm\ndm.fit", "fit"),
    ("import dismantle\ndismantle.training.fit", "fit"),
    ("from dismantle import fit", "fit"),
    ("from dismantle.training import fit as train", "fit"),
    ("import dismantle.training as T\nT.fit", "fit"),
    ("import dismantle as dm\nF = dm.functional\nF.softmax(1)", "functional.softmax"),
    ("from dismantle import functional\nfunctional.softmax(1)", "functional.softmax"),
    ("import dismantle as dm\nclass A(dm.Module):\n    pass", "Module"),
    ("import dismantle as dm\nx = dm.Linear.forward", "Linear"),
])
def test_every_way_to_reach_a_name_is_seen(code, name):
    """A later chapter introduces the name; the first chapter's use of it is a leak however written."""
    pages = {"a.md": "---\nintroduces: []\n---\n" + CODE.format(code),
             "b.md": f"---\nintroduces: [{name}]\n---\n" + CODE.format(f"import dismantle as dm\ndm.{name}")}
    order = list(pages)
    errors, leaks = problems(pages, order)
    assert errors == [] and [(p, resolve(n)) for p, n, _ in leaks] == [("a.md", resolve(name))]


def test_a_folded_solution_is_read_too():
    solution = '??? success "Solution"\n\n    ```python\n    import dismantle as dm\n    dm.fit\n    ```\n'
    pages = {"a.md": "---\nintroduces: []\n---\n" + solution,
             "b.md": "---\nintroduces: [fit]\n---\n" + CODE.format("import dismantle as dm\ndm.fit")}
    order = list(pages)
    assert [m for _, _, m in problems(pages, order)[1]] == ["a.md:8: uses fit, introduced only later by b.md"]


def test_an_api_example_that_looks_ahead_is_caught():
    pages = {"a.md": "---\nintroduces: [Linear]\n---\n" + CODE.format("import dismantle as dm\ndm.Linear"),
             "b.md": "---\nintroduces: [fit]\n---\n" + CODE.format("import dismantle as dm\ndm.fit")}
    order = list(pages)
    example = Reader().uses("import dismantle as dm\nlayer = dm.Linear(3, 2)\ndm.fit(layer)\n")
    errors, _ = problems(pages, order, [(dismantle.Linear, example)])
    assert errors == ["API example of Linear: uses fit, introduced by b.md, after a.md introduces Linear"]
    assert problems(pages, order, [(dismantle.fit, example)])[0] == []
