"""Every chapter's notebook (``sitekit.notebooks``) runs top to bottom and prints what its page shows.

Each notebook is made from its page by the hook's own converter and executed with ``nbclient``
on a fresh ``ipykernel`` of this very interpreter, in an empty folder, with its own IPython
profile folder: no state from outside. The kernel is described by a kernelspec in a temporary
folder handed to the kernel manager, so the user's Jupyter configuration is neither read for
the kernel nor touched. The notebooks run concurrently (one kernel each).

Every code cell's stdout must equal the output the page shows under that block, exactly as the
doc tests compare it, and a cell must raise nothing and show nothing else (no stderr, no
``Out[]`` value). A cell whose block shows no output must print nothing. Planted faults prove
each check can fail: a cell that raises, one that prints something else, one that relies on a
block the notebook lacks, print options leaking from one walk-through into the next, and (at
build time) a block that relies on a later one.

``python tests/test_notebooks.py`` prints the table of cells, sizes and times.
"""

import asyncio
import concurrent.futures
import copy
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from sitekit import claims, notebooks
from tests import blasruns

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
CONCURRENCY = max(2, min(4, os.cpu_count() or 2))


hook = notebooks  # the converter the build uses (sitekit.prebuild)


def _mkdocs_chapters(nav):
    """The pages under the nav's parts, read from MkDocs' own ``Navigation`` (an oracle for ``chapters``)."""
    def pages(items):
        for item in items:
            if item.is_page:
                yield item
            elif item.is_section:
                yield from pages(item.children)

    return [p for s in nav.items if s.is_section and notebooks.SECTION.match(s.title) for p in pages(s.children)]


def chapters():
    """``[(src_uri, title)]`` of the nav's parts (its chapters), read the way MkDocs reads it."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation

    config = load_config(str(ROOT / "mkdocs.yml"))
    nav = get_navigation(get_files(config), config)
    return [(p.file.src_uri, p.title) for p in _mkdocs_chapters(nav)], config


CHAPTERS, CONFIG = chapters()


def make(src, title=None, root=ROOT / "docs"):
    text = (root / src).read_text(encoding="utf-8")
    return hook.convert(text, src, title=title, site_url=CONFIG.site_url, repo_url=CONFIG.repo_url,
                        use_directory_urls=CONFIG.use_directory_urls)


# ---------------------------------------------------------------- executing

def _kernelspec(folder):
    spec = folder / "kernels" / "dismantle"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "dismantle", "language": "python"}))
    return folder / "kernels"


@dataclass
class Run:
    expected: nbformat.NotebookNode
    executed: nbformat.NotebookNode
    seconds: float


async def _run(nb, folder, kernels, gate, setting):
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    work = folder / "cwd"
    work.mkdir(parents=True)
    env = blasruns.environment(setting, ENV) | {"IPYTHONDIR": str(folder / "ipython"), "PYTHONHASHSEED": "0"}
    km = AsyncKernelManager(kernel_name="dismantle", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]),
                            transport="ipc", connection_file=str(folder / "kernel.json"))
    executed = copy.deepcopy(nb)
    client = NotebookClient(executed, km=km, timeout=300, allow_errors=True, record_timing=False,
                            resources={"metadata": {"path": str(work)}})
    async with gate:
        start = time.perf_counter()
        try:
            await client.async_execute(env=env)
        finally:
            if km.has_kernel:  # nbclient leaves a kernel manager it did not create running
                await km.shutdown_kernel(now=True)
        return Run(nb, executed, time.perf_counter() - start)


def execute(notebooks, folder, setting=blasruns.NOTEBOOKS):
    """Run every notebook (a dict name -> node) on its own fresh kernel, a few at a time, under the
    BLAS ``setting`` (a key of ``blasruns.SETTINGS``, or None for this machine's defaults)."""
    kernels = _kernelspec(folder)

    async def main():
        gate = asyncio.Semaphore(CONCURRENCY)
        runs = [_run(nb, folder / f"run-{k}", kernels, gate, setting) for k, nb in enumerate(notebooks.values())]
        return dict(zip(notebooks, await asyncio.gather(*runs)))

    # A thread of its own: a loop already running here (Playwright's sync API) cannot host asyncio.run.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


def with_claims(nb, text, page):
    """``nb`` with a cell after the last block of each walk-through that checks the numbers the page's
    sentences tie to it (``sitekit.claims``), in the kernel's namespace, as the doc tests check them
    in the walk-through's: it prints nothing, or raises ``ClaimError`` naming page and line."""
    todo = {last: found for (_, last), found in claims.plan(text, page).items()}
    out = copy.deepcopy(nb)
    out.cells = []
    for cell in nb.cells:
        out.cells.append(cell)
        meta = cell.metadata.get("dismantle", {})
        if cell.cell_type == "code" and "inserted" not in meta and meta.get("line") in todo:
            found = [dataclasses.asdict(claim) for claim in todo[meta["line"]]]
            check = nbformat.v4.new_code_cell("__import__('sitekit.claims').claims.check_all([__import__("
                                              f"'sitekit.claims').claims.Claim(**c) for c in {found!r}], globals())")
            check.metadata["dismantle"] = {"line": meta["line"], "inserted": "claims"}
            out.cells.append(check)
    return out


def make_checked(src, title=None, root=ROOT / "docs"):
    """The chapter's notebook with its claim checks, as the tests run it."""
    text = (root / src).read_text(encoding="utf-8")
    return with_claims(make(src, title, root), text, f"docs/{src}")


# ---------------------------------------------------------------- checking

def _text(outputs, name):
    return "".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == name)


def problems(run, src):
    """Every way the executed notebook differs from its page, each naming the page line."""
    out = []
    for want, got in zip(run.expected.cells, run.executed.cells, strict=True):
        if want.cell_type != "code":
            continue
        where = f"{src}:{want.metadata['dismantle']['line']}"
        for o in got.outputs:
            if o["output_type"] == "error":
                out.append(f"{where}: raised {o['ename']}: {o['evalue']}")
            elif o["output_type"] in ("execute_result", "display_data"):
                out.append(f"{where}: shows a value the page does not: {o['data'].get('text/plain', o['data'])!r}")
        if stderr := _text(got.outputs, "stderr"):
            out.append(f"{where}: wrote to stderr: {stderr[:300]!r}")
        expected, printed = _text(want.outputs, "stdout"), _text(got.outputs, "stdout")
        if printed != expected:
            out.append(f"{where}: printed\n{printed}which differs from the page's\n{expected}")
    return out


class Runs(dict):
    """``runs[src]``: the executed notebook of a chapter, run when first asked for.

    In one process, the first request runs every selected chapter (``selected``: those whose test
    the session runs, so ``-k linearity`` runs one), ``CONCURRENCY`` kernels at a time. In a
    pytest-xdist worker (``make test``) a request runs only its own chapter, so the chapters
    spread over the workers, one test each, and a new chapter adds one more.
    """

    def __init__(self, folder, alone, selected=None):
        super().__init__()
        self.folder, self.alone, self.batches = folder, alone, 0
        self.selected = {s for s, _ in CHAPTERS} if selected is None else set(selected)

    def __missing__(self, src):
        wanted = [(s, t) for s, t in CHAPTERS
                  if s == src or not (self.alone or s in self or s not in self.selected)]
        notebooks = {s: make_checked(s, t) for s, t in wanted}
        self.batches += 1  # a batch that failed (a cell timed out) still used its folder
        self.update(execute(notebooks, self.folder / f"batch-{self.batches}"))
        return self[src]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, pytestconfig, request):
    name = test_notebook_runs_and_prints_what_the_page_shows.__name__
    selected = [item.callspec.params["src"] for item in request.session.items
                if getattr(item, "originalname", None) == name and item.path == Path(__file__)]
    return Runs(tmp_path_factory.mktemp("notebooks"), alone=hasattr(pytestconfig, "workerinput"), selected=selected)


def test_there_are_chapters():
    assert len(CHAPTERS) >= 8, CHAPTERS


def test_the_build_reads_the_chapters_from_the_nav_as_mkdocs_does():
    """sitekit.notebooks reads mkdocs.yml's nav itself (Zensical has no MkDocs objects): same pages, same titles."""
    from sitekit import prebuild

    nav = prebuild.read_config(ROOT / "mkdocs.yml")["nav"]
    assert notebooks.chapters(nav) == CHAPTERS
    # planted: Part I renamed without "Part" and its numeral is no longer a part: its chapters drop out
    renamed = [{("Chapters of old" if isinstance(v, list) and k.startswith("Part I:") else k): v for k, v in item.items()}
               if isinstance(item, dict) else item for item in nav]
    assert notebooks.chapters(renamed) != CHAPTERS


def test_one_process_runs_the_selected_chapters_only(tmp_path, monkeypatch):
    """``pytest tests/test_notebooks.py -k linearity`` starts one kernel, not one per chapter."""
    asked = []
    monkeypatch.setattr(sys.modules[__name__], "execute",
                        lambda notebooks, folder: asked.append(sorted(notebooks)) or dict.fromkeys(notebooks, "ran"))
    first, second = CHAPTERS[0][0], CHAPTERS[1][0]
    runs = Runs(tmp_path / "two", alone=False, selected=[first, second])
    assert runs[first] == runs[second] == "ran"
    assert asked == [sorted([first, second])]
    asked.clear()  # planted: without the selection, the first request runs every chapter
    Runs(tmp_path / "all", alone=False)[first]
    assert asked == [sorted(s for s, _ in CHAPTERS)]


@pytest.mark.parametrize("src", [src for src, _ in CHAPTERS])
def test_notebook_runs_and_prints_what_the_page_shows(runs, src):
    run = runs[src]
    nbformat.validate(run.executed)
    found = problems(run, src)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("src,title", CHAPTERS)
def test_every_block_of_the_page_is_a_cell_in_order(src, title):
    """An independent count: the page's runnable fences and shown outputs, one cell each, in order."""
    lines = (ROOT / "docs" / src).read_text(encoding="utf-8").splitlines(keepends=True)
    blocks = [(f.start + 1, "".join(f.body)) for f in hook.mdblocks.scan(lines) if hook.mdblocks.runnable(f)]
    outputs = sum(1 for f in hook.mdblocks.scan(lines) if f.role == "output")
    nb = make(src, title)
    cells = [c for c in nb.cells if c.cell_type == "code" and "inserted" not in c.metadata["dismantle"]]
    assert [c.metadata["dismantle"]["line"] for c in cells] == [line for line, _ in blocks]
    for cell, (line, body) in zip(cells, blocks):
        assert cell.source == textwrap.dedent(body).rstrip("\n"), f"{src}:{line}"
    assert sum(1 for c in cells if c.outputs) == outputs
    assert nb.cells[0].cell_type == "markdown" and "pip install" in nb.cells[0].source


def test_notebooks_are_the_same_bytes_in_another_process():
    """No set or dict order, time or randomness leaks into a notebook: a fresh process, another hash seed."""
    script = textwrap.dedent(f"""
        import sys, json
        from sitekit import notebooks as h
        out = {{}}
        for src, title in json.loads(sys.argv[1]):
            text = open({str(ROOT / "docs")!r} + "/" + src, encoding="utf-8").read()
            out[src] = h.dumps(h.convert(text, src, title=title, site_url={CONFIG.site_url!r},
                                         repo_url={CONFIG.repo_url!r}))
        print(json.dumps(out))
    """)
    run = subprocess.run([sys.executable, "-c", script, json.dumps(CHAPTERS)], env=ENV | {"PYTHONHASHSEED": "1"},
                         capture_output=True, text=True, check=True)
    theirs = json.loads(run.stdout)
    for src, title in CHAPTERS:
        assert theirs[src] == hook.dumps(make(src, title)), src


# ---------------------------------------------------------------- planted faults

PLANTED = """# Planted

```python
import numpy as np

np.set_printoptions(precision=2)
print(np.array([1 / 3]))
```

<!--pytest-codeblocks:expected-output-->
```
[0.33]
```

```python
import numpy  # a new walk-through: NumPy's default printing

print(numpy.array([1 / 3]))
```

<!--pytest-codeblocks:expected-output-->
```
[0.33333333]
```

```python
raise ValueError("planted")
```

```python
print("something else")
```

<!--pytest-codeblocks:expected-output-->
```
what the page shows
```

```python
secret = 42
```

<!--pytest-codeblocks:cont-->
```python
print(secret)
```

<!--pytest-codeblocks:expected-output-->
```
42
```
"""


def _line(snippet):
    """The page line of the fence that opens the block whose first line is ``snippet``."""
    return PLANTED.splitlines().index(snippet)  # 0-based index of the code line = 1-based fence line


def test_planted_faults_are_each_caught(tmp_path):
    good = hook.convert(PLANTED, "planted.md")
    cell = {c.metadata["dismantle"]["line"]: k for k, c in enumerate(good.cells) if c.cell_type == "code"}
    inserted = [k for k, c in enumerate(good.cells) if c.cell_type == "code" and "inserted" in c.metadata["dismantle"]]
    assert len(inserted) == 1, "the print options set in the first walk-through are reset once"
    leaky = copy.deepcopy(good)
    # Drop the block that defines `secret` (as if only the page ran it), and the reset cell, so
    # that precision=2 leaks into the second walk-through.
    for k in sorted([cell[_line("secret = 42")], inserted[0]], reverse=True):
        del leaky.cells[k]

    async def inside_a_running_loop():  # as in `make test`, where Playwright's sync API keeps one running
        return execute({"good": good, "leaky": leaky}, tmp_path)

    runs = asyncio.run(inside_a_running_loop())
    raises, other = _line('raise ValueError("planted")'), _line('print("something else")')
    fresh, secret = _line("import numpy  # a new walk-through: NumPy's default printing"), _line("print(secret)")
    found = problems(runs["good"], "planted.md")
    assert len(found) == 2, found
    assert found[0].startswith(f"planted.md:{raises}: raised ValueError: planted"), found
    assert found[1].startswith(f"planted.md:{other}: printed\nsomething else\nwhich differs from the page's\n"
                               "what the page shows"), found
    leaks = problems(runs["leaky"], "planted.md")
    assert leaks[0].startswith(f"planted.md:{fresh}: printed\n[0.33]\nwhich differs from the page's\n"
                               "[0.33333333]"), leaks
    assert f"planted.md:{secret}: raised NameError: name 'secret' is not defined" in leaks, leaks


@pytest.mark.parametrize("page,line,message", [
    ("```python\nprint(later)\n```\n\n```python\nlater = 1\n```\n", 1,
     "reads `later`, which only a later block defines (line 5)"),
    ("```python\ndef f():\n    return nowhere\n```\n", 1, "reads `nowhere`, which no block on the page defines"),
    ("```python\nx = 1\n```\n\n<!--\n```python\ny = 2\n```\n-->\n", 6, "inside an HTML comment"),
    ("<!--pytest-codeblocks:cont-->\n```python\nx = 1\n```\n", 2, "no block comes before it"),
    ("Text.\n\n<!--pytest-codeblocks:expected-output-->\n```\n1\n```\n", 4, "no code block above it"),
    ("```python\nprint(1)\nprint(2\n```\n", 3, "does not parse"),
])
def test_a_page_that_cannot_be_a_notebook_names_page_and_line(page, line, message):
    with pytest.raises(hook.NotebookError) as err:
        hook.convert(page, "bad.md")
    assert str(err.value).startswith(f"bad.md:{line}: "), err.value
    assert message in str(err.value)


def test_the_build_fails_with_page_and_line(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n")
    (docs / "ch.md").write_text("# Ch\n\n```python\nprint(later)\n```\n\n```python\nlater = 1\n```\n")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nnav:\n  - Home: index.md\n  - Chapters:\n      - Ch: ch.md\n"
        f"hooks:\n  - {ROOT / 'hooks' / 'generated.py'}\n")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", str(tmp_path / "site")], cwd=tmp_path,
                         env=ENV, capture_output=True, text=True)
    assert run.returncode != 0
    assert "ch.md:3: the block reads `later`" in run.stderr, run.stderr
    assert not (tmp_path / "site" / "ch.ipynb").exists()


# ---------------------------------------------------------------- the table for the closing note

def table():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        notebooks = {src: make_checked(src, title) for src, title in CHAPTERS}
        start = time.perf_counter()
        runs = execute(notebooks, Path(folder))
        wall = time.perf_counter() - start
    print(f"{'notebook':<28}{'cells':>6}{'md':>5}{'code':>5}{'reset':>6}{'shown':>6}{'KB':>7}{'run s':>7}  matched")
    for src, run in runs.items():
        cells = run.expected.cells
        code = [c for c in cells if c.cell_type == "code"]
        reset = sum("inserted" in c.metadata["dismantle"] for c in code)
        shown = sum(bool(c.outputs) for c in code)
        size = len(hook.dumps(run.expected).encode()) / 1024
        bad = problems(run, src)
        print(f"{src.replace('.md', '.ipynb'):<28}{len(cells):>6}{len(cells) - len(code):>5}{len(code):>5}{reset:>6}"
              f"{shown:>6}{size:>7.1f}{run.seconds:>7.1f}  {'yes' if not bad else 'NO: ' + bad[0]}")
    print(f"wall time for all, {CONCURRENCY} at a time: {wall:.1f} s")


if __name__ == "__main__":
    table()


# ---------------------------------------------------------------- how the Markdown becomes cells

STRUCTURED = '''# Title { #top }

Prose with $x_i$ and a [link](loss.md#reductions), a [same-page link](#top), `a[0](x)` in code.
<!-- a comment
over two lines -->
*[HTML]: an abbreviation definition

!!! note "Why $W$ is (out, in)"

    The body of the note.

=== "NumPy"

    ```python
    x = 1
    ```

=== "PyTorch"

    <!--pytest-codeblocks:cont-->
    ```python
    print(x)
    ```

    <!--pytest-codeblocks:expected-output-->
    ```
    1
    ```

??? question "Exercise"

    Try it.

    ???+ success

        ![A figure](figures/f.svg)

--8<-- "snippet.md"
'''


def _markdown(nb):
    return [c.source for c in nb.cells[1:] if c.cell_type == "markdown"]


def test_tabs_admonitions_comments_links_and_snippets_become_plain_notebook_markdown(tmp_path):
    (tmp_path / "snippet.md").write_text("Included text.\n")
    nb = hook.convert(STRUCTURED, "ch/page.md", site_url="https://example.org/site/", root=tmp_path)
    assert _markdown(nb) == [
        "# Title\n\nProse with $x_i$ and a [link](https://example.org/site/ch/loss/#reductions), a "
        "[same-page link](https://example.org/site/ch/page/#top), `a[0](x)` in code.\n\n"
        "**Why $W$ is (out, in)**\n\nThe body of the note.\n\n**NumPy**",
        "**PyTorch**",
        "**Exercise**\n\nTry it.\n\n**Success**\n\n![A figure](https://example.org/site/ch/figures/f.svg)\n\n"
        "Included text.",
    ]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["x = 1", "print(x)"]
    assert [c.outputs for c in code][1][0]["text"] == "1\n"
    assert "](https://example.org/site/ch/page/)" in nb.cells[0].source
    relative = hook.convert(STRUCTURED, "ch/page.md", site_url=None, root=tmp_path)
    assert "[link](loss/#reductions)" in _markdown(relative)[0]
    assert "![A figure](figures/f.svg)" in _markdown(relative)[2]


@pytest.mark.parametrize("second,reset", [
    ("import numpy as np\n\nnp.set_printoptions(precision=3, suppress=True)\nprint(1)", False),
    ("import numpy as np\n\nnp.set_printoptions(precision=3)\nprint(1)", True),  # suppress stays changed
    ("print(1)\nnp.set_printoptions(precision=3, suppress=True)", True),  # prints before it sets
])
def test_print_options_are_reset_only_where_a_walk_through_does_not_set_them_itself(second, reset):
    page = ("```python\nimport numpy as np\n\nnp.set_printoptions(precision=2, suppress=True)\n```\n\n"
            f"```python\n{second}\n```\n")
    cells = [c for c in hook.convert(page, "p.md").cells if c.cell_type == "code"]
    inserted = [c.source for c in cells if "inserted" in c.metadata["dismantle"]]
    assert inserted == (['np.set_printoptions(precision=8, suppress=False)  # a new walk-through: '
                         "NumPy's default printing"] if reset else [])


def test_shell_blocks_become_shell_cells():
    nb = hook.convert("```sh\necho hi\n```\n\n<!--pytest-codeblocks:expected-output-->\n```\nhi\n```\n", "p.md")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == "%%sh\necho hi" and code[0].outputs[0]["text"] == "hi\n"
