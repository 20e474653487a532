"""Every chapter page as a Jupyter notebook, made at build time from the page's own Markdown.

Readers want to poke at a chapter's code, and copying thirty blocks by hand, in order and across
tabs, is where they give up. So each page in a part of the nav (a section titled "Part I: …", "Part II: …") becomes
``<chapter>.ipynb`` beside it (``docs/loss.md`` gives ``loss.ipynb`` at the site's root, next
to ``loss/``), and ``overrides/main.html`` puts a "Download notebook" action by the title.
Nothing is kept by hand: the notebook is rebuilt from the Markdown on every build, by the
pre-build step ``sitekit.prebuild`` (``generated`` here gives the files).

How a page maps onto cells. The fences are found by ``sitekit.mdblocks``, the scanner the doc
tests use, so a notebook sees exactly the blocks, chains and outputs that pytest checks.

* Every runnable block (bare ``python``, ``sh``, ``bash``) is a code cell, in page order, and
  the output shown under it is stored as the cell's stdout.
* The prose between blocks is a Markdown cell. Math stays ``$…$``/``$$…$$``. A tab
  (``=== "NumPy"``) or an admonition (``!!! note "Title"``, ``??? success "Solution"``) becomes
  a bold title line over its body, so every tab's code is there for the cells after it. HTML
  comments, attribute lists and abbreviation definitions go; ``--8<-- "file"`` is expanded;
  links and images point at the published site (``site_url``), or are relative to the notebook
  when it is not known. A number tied to the code (``{{31 = n_params}}``, ``sitekit.claims``)
  shows as its plain text.
* The first cell says how to install ``dismantle`` and which versions made the outputs.
* The doc tests run each walk-through (a cont-chain) in a fresh namespace with NumPy's default
  print options (``conftest.py``); a notebook runs every cell in one kernel. So after a
  walk-through that calls ``np.set_printoptions``, a one-line cell puts the options it changed
  back to NumPy's defaults before the next walk-through starts.

A page that cannot become a notebook fails the build with its path and line, never a broken
notebook. The rule: **a notebook runs top to bottom, so every name a block reads must be bound
by that block or by a block above it** (a name read inside a function body is only looked up
when the function runs, so it may be bound anywhere on the page, but must be bound somewhere).
Also refused: a runnable block inside an HTML comment (the doc tests would run it, readers and
the notebook would never see it), an expected output with no block above it or a second one for
the same block, a ``cont`` marker with nothing to continue, and code that does not parse.
"""

import ast
import builtins
import posixpath
import re
import symtable
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from sitekit import claims, mdblocks

ROOT = Path(__file__).resolve().parents[2]
# The nav sections that hold chapters: its parts (and "Chapters", the name before parts).
SECTION = re.compile(r"Part [IVXLC]+\b|Chapters$")
CONSTRAINTS = ROOT / "constraints.txt"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?)\s+([\w-]+)(?:\s+"(.*)")?\s*$')
TAB = re.compile(r'^===\+?!?\s+"(.*)"\s*$')
HEADING_ATTRS = re.compile(r"^(#{1,6}\s.*?)\s*\{[^}]*\}\s*$")
ABBREVIATION = re.compile(r"^\*\[[^\]]+\]:")
SNIPPET = re.compile(r'^(;?)--8<--(?:\s+"([^"]*)")?\s*$')
COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
# Inline code and fenced code are left alone; elsewhere ``](target)`` is a link or an image.
LINK = re.compile(r"(?P<code>```.*?```|`[^`\n]*`)|\]\((?P<target>[^)\s]+)", re.S)
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/)")
DEFERRED = ("function",)  # a def or a lambda runs later; comprehensions and class bodies run now
COMPREHENSIONS = {"listcomp", "setcomp", "dictcomp", "genexpr"}


class NotebookError(ValueError):
    """A page that cannot become a notebook: the message starts with ``page:line:``."""

    def __init__(self, src, line, message):
        super().__init__(f"{src}:{line}: {message}")
        self.src, self.line = src, line


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    text: str
    line: int  # 1-based line in the page: the fence for code, the first prose line otherwise
    syntax: str = "python"
    cont: bool = False
    output: str | None = None
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------- the page, walked once

def _comment_state(text, inside):
    """Whether an HTML comment is still open after ``text``, given whether one was before it."""
    pos = 0
    while True:
        j = text.find("-->" if inside else "<!--", pos)
        if j < 0:
            return inside
        pos, inside = j + (3 if inside else 4), not inside


def _front_matter(lines):
    """Blank out a YAML front matter block, keeping line numbers."""
    if lines and lines[0].rstrip() == "---":
        for k in range(1, len(lines)):
            if lines[k].rstrip() in ("---", "..."):
                return ["\n"] * (k + 1) + lines[k + 1 :]
    return lines


class _Walk:
    """One pass over a page's lines, collecting ``Cell``s: prose runs and runnable blocks, in order."""

    def __init__(self, lines, src, root):
        self.lines, self.src, self.root = lines, src, root
        self.cells, self.prose, self.prose_line = [], [], None
        self.stack = []  # body indents of the open tabs and admonitions
        self.inside = False  # within an HTML comment

    def run(self):
        fences = {f.start: f for f in mdblocks.scan(self.lines)}
        i = 0
        while i < len(self.lines):
            raw = self.lines[i].rstrip("\n")
            indent = len(raw) - len(raw.lstrip(" "))
            while raw.strip() and self.stack and indent < self.stack[-1]:
                self.stack.pop()
            base = self.stack[-1] if self.stack else 0
            fence = fences.get(i)
            if fence is None:
                self.line(raw[base:] if raw[:base].strip() == "" else raw.lstrip(" "), indent, i + 1)
                i += 1
                continue
            if fence.role == "output" and not self.inside:
                self.output(fence)
            elif mdblocks.runnable(fence):
                self.code(fence)
            else:  # a fence that does not run (or sits in a comment): Markdown as it is
                for k in range(fence.start, fence.end + 1):
                    self.say(mdblocks._dedent(self.lines[k].rstrip("\n"), " " * base), k + 1)
            i = fence.end + 1
        self.flush()
        return self.cells

    def fail(self, line, message):
        raise NotebookError(self.src, line, message)

    def say(self, text, line):
        self.prose.append(text)
        self.prose_line = self.prose_line or line

    def flush(self):
        if self.prose:
            self.cells.append(Cell("markdown", "\n".join(self.prose), self.prose_line))
        self.prose, self.prose_line = [], None

    def output(self, fence):
        code = [c for c in self.cells if c.kind == "code"]
        if not code:
            self.fail(fence.start + 1, "an expected output with no code block above it")
        if code[-1].output is not None:
            self.fail(fence.start + 1, f"a second expected output for the block at line {code[-1].line}")
        code[-1].output = "".join(mdblocks._dedent(x, fence.indent) for x in fence.body)

    def code(self, fence):
        line = fence.start + 1
        if self.inside:
            self.fail(line, "a runnable block inside an HTML comment: the doc tests run it, but readers "
                      "(and the notebook) never see it")
        if fence.role == "cont" and not any(c.kind == "code" for c in self.cells):
            self.fail(line, "marked <!--pytest-codeblocks:cont--> but no block comes before it")
        self.flush()
        body = "".join(mdblocks._dedent(x, fence.indent) for x in fence.body).rstrip("\n")
        self.cells.append(Cell("code", body, line, syntax=fence.info, cont=fence.role == "cont"))

    def line(self, text, indent, line):
        """A prose line: a tab or admonition title, a snippet, an abbreviation, or text."""
        was_inside, self.inside = self.inside, _comment_state(text, self.inside)
        m, tab, snip = ADMONITION.match(text), TAB.match(text), SNIPPET.match(text)
        if was_inside or not (m or tab or snip or ABBREVIATION.match(text)):
            self.say(text if was_inside else HEADING_ATTRS.sub(r"\1", text), line)
        elif m or tab:
            title = tab[1] if tab else (m[2] if m[2] is not None else m[1].capitalize())
            if title:
                self.say(f"**{title}**", line)
                self.say("", line)
            self.stack.append(indent + 4)
        elif snip:
            self.snippet(snip, text, line)

    def snippet(self, snip, text, line):
        if snip[1]:
            self.say(text[1:], line)  # ;--8<-- shows the marker itself
            return
        path = (self.root / snip[2]) if snip[2] else None
        if path is None or not path.is_file():
            self.fail(line, f"snippet {snip[2]!r} not found under {self.root} (only the one-line "
                      '--8<-- "file" form is expanded in notebooks)')
        for extra in path.read_text(encoding="utf-8").splitlines():
            self.say(extra, line)


# ---------------------------------------------------------------- links and images

def page_url(src, use_directory_urls=True):
    """The URL path (no leading slash) MkDocs gives the page built from ``src``."""
    stem = src[: -len(".md")]
    if not use_directory_urls:
        return stem + ".html"
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def _resolve(target, src, site_url, use_directory_urls):
    """A relative link of page ``src``, as seen from its notebook (which sits beside the page's source)."""
    if EXTERNAL.match(target):
        return target
    path, hash_, anchor = target.partition("#")
    here = posixpath.dirname(src)
    if not path:
        url = page_url(src, use_directory_urls)
    else:
        url = posixpath.normpath(posixpath.join(here, path))
        if url.endswith(".md"):
            url = page_url(url, use_directory_urls)
    tail = hash_ + anchor
    if site_url:
        return site_url.rstrip("/") + "/" + url + tail
    rel = posixpath.relpath(url or ".", here or ".")  # relpath drops a trailing slash: put it back
    if rel == ".":
        rel = "./"
    elif url.endswith("/"):
        rel += "/"
    return rel + tail


def _relink(text, src, site_url, use_directory_urls):
    def swap(m):
        if m["code"]:
            return m[0]
        return "](" + _resolve(m["target"], src, site_url, use_directory_urls)

    return LINK.sub(swap, text)


# ---------------------------------------------------------------- the order rule

def _scope_names(table, deferred, reads_now, reads_later, binds):
    for sym in table.get_symbols():
        name = sym.get_name()
        if table.get_type() == "module":
            if sym.is_assigned() or sym.is_imported():
                binds.add(name)
            elif sym.is_referenced():
                reads_now.add(name)
            continue
        if sym.is_global() and sym.is_referenced() and not sym.is_assigned():
            (reads_later if deferred else reads_now).add(name)
        if sym.is_declared_global() and sym.is_assigned():
            binds.add(name)
    for child in table.get_children():
        later = deferred or (child.get_type() in DEFERRED and child.get_name().strip("<>") not in COMPREHENSIONS)
        _scope_names(child, later, reads_now, reads_later, binds)


def names(code):
    """``(read at once, read when a function runs, bound, star-imports)`` of a block's code."""
    tree = ast.parse(code)
    stars = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree))
    now, later, binds = set(), set(), set()
    _scope_names(symtable.symtable(code, "<block>", "exec"), False, now, later, binds)
    return now, later, binds, stars


def check_order(cells, src):
    """Raise ``NotebookError`` unless every name a code cell reads is bound above it (see the module doc)."""
    code = [c for c in cells if c.kind == "code" and c.syntax == "python"]
    facts = []
    for cell in code:
        try:
            facts.append(names(cell.text))
        except SyntaxError as err:
            raise NotebookError(src, cell.line + (err.lineno or 0), f"the block does not parse: {err.msg}") from None
    known = set(dir(builtins))
    first_binder = {}
    for cell, (_, _, binds, _) in zip(code, facts):
        for name in binds:
            first_binder.setdefault(name, cell.line)
    bound, star = set(), False
    for cell, (now, later, binds, stars) in zip(code, facts):
        for name in sorted(now - bound - binds - known):
            if first_binder.get(name, 0) > cell.line:
                raise NotebookError(src, cell.line, f"the block reads `{name}`, which only a later block defines "
                                    f"(line {first_binder[name]}); a notebook runs from the top, so a block may "
                                    "only rely on blocks above it")
            if not star and name not in first_binder:
                raise NotebookError(src, cell.line, f"the block reads `{name}`, which no block on the page defines")
        for name in sorted(later - known - set(first_binder)):
            if not (star or stars):
                raise NotebookError(src, cell.line, f"a function in the block reads `{name}`, which no block on "
                                    "the page defines")
        bound |= binds
        star = star or stars


# ---------------------------------------------------------------- print options between walk-throughs

def _printoption_calls(code):
    """``[(alias, option names)]`` for each ``<alias>.set_printoptions(...)`` call in the code."""
    positional = list(np.set_printoptions.__code__.co_varnames[: np.set_printoptions.__code__.co_argcount])
    out = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "set_printoptions" and isinstance(node.func.value, ast.Name)):
            options = [k.arg for k in node.keywords if k.arg] + positional[: len(node.args)]
            out.append((node.func.value.id, options))
    return out


def _sets_first(code, options):
    """Whether the block's first statements after its imports set all of ``options`` itself."""
    for node in ast.parse(code).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        calls = _printoption_calls(ast.unparse(node)) if isinstance(node, ast.Expr) else []
        return bool(calls) and set(options) <= set(calls[0][1])
    return False


def _literal(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def reset_printoptions(cells):
    """Insert a cell restoring NumPy's default print options before each walk-through that needs it.

    Not needed (so not inserted) when the walk-through's first block, right after its imports,
    sets every option that was changed.
    """
    defaults = np.get_printoptions()
    out, changed, alias = [], {}, None
    for cell in cells:
        python = cell.kind == "code" and cell.syntax == "python"
        if python and not cell.cont and changed:
            if not _sets_first(cell.text, changed):
                args = ", ".join(f"{k}={_literal(defaults[k])}" for k in sorted(changed))
                text = f"{alias}.set_printoptions({args})  # a new walk-through: NumPy's default printing"
                out.append(Cell("code", text, cell.line, meta={"inserted": "numpy print options"}))
            changed = {}
        out.append(cell)
        if python:
            for name, options in _printoption_calls(cell.text):
                alias = name  # the reset cell uses the name the page gave NumPy
                changed.update(dict.fromkeys(options))
    return out


# ---------------------------------------------------------------- the notebook

def versions(constraints=CONSTRAINTS):
    """Python (major.minor of the build) and the pinned NumPy and torch the outputs were made with."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", constraints.read_text(encoding="utf-8"), re.M))
    return {"Python": f"{sys.version_info.major}.{sys.version_info.minor}", "NumPy": pins["numpy"],
            "torch": pins["torch"]}


def intro(title, link, made_with, repo_url=None):
    """The first cell: where the notebook comes from, how to get ``dismantle``, which versions."""
    numpy, torch = made_with["NumPy"], made_with["torch"]
    text = [
        f"*This notebook is the chapter [{title}]({link}) of* Dismantling Neural Networks, generated "
        "from the page. Run the cells from the top, in order: each code cell relies only on the cells "
        "above it. The output stored under a code cell is what the page shows, made with "
        f"Python {made_with['Python']}, NumPy {numpy} and torch {torch}.",
        "",
        "**Getting `dismantle`.** From a clone of the repository, in its root folder (`[data]` brings "
        "scikit-learn for the bundled digits; `constraints.txt` pins the versions above):",
        "",
        "```sh",
        'pip install -c constraints.txt -e ".[data]" torch',
        "```",
    ]
    if repo_url:
        text += ["", "or straight from the repository:", "", "```sh",
                 f'pip install "dismantle[data] @ git+{repo_url.rstrip("/")}" numpy=={numpy} torch=={torch}', "```"]
    return "\n".join(text)


def _tidy(text):
    text = COMMENT.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def convert(text, src, *, title=None, site_url=None, repo_url=None, use_directory_urls=True, made_with=None,
            root=ROOT):
    """The notebook (an ``nbformat`` v4 node, validated) for the page ``src`` whose Markdown is ``text``."""
    try:
        claims.find(text, src)  # a marker that cannot be read: its page and line, before any cell
    except claims.ClaimError as err:
        line, _, message = str(err).removeprefix(f"{src}:").partition(": ")
        raise NotebookError(src, int(line), message) from None
    lines = _front_matter(text.splitlines(keepends=True))
    cells = _Walk(lines, src, root).run()
    check_order(cells, src)
    cells = reset_printoptions(cells)
    if title is None:
        heading = re.search(r"^#\s+(.+?)\s*$", text, re.M)
        title = heading[1] if heading else src
    link = _resolve(posixpath.basename(src), src, site_url, use_directory_urls)
    made_with = made_with or versions()
    nb_cells = [nbformat.v4.new_markdown_cell(intro(title, link, made_with, repo_url))]
    for cell in cells:
        if cell.kind == "markdown":
            body = _tidy(_relink(claims.plain(cell.text, src), src, site_url, use_directory_urls))
            if body:
                nb_cells.append(nbformat.v4.new_markdown_cell(body))
            continue
        source = cell.text if cell.syntax == "python" else f"%%{cell.syntax}\n{cell.text}"
        outputs = [] if cell.output is None else [nbformat.v4.new_output("stream", name="stdout", text=cell.output)]
        meta = {"dismantle": {"line": cell.line, "cont": cell.cont, **cell.meta}}
        nb_cells.append(nbformat.v4.new_code_cell(source, outputs=outputs, metadata=meta))
    for k, cell in enumerate(nb_cells):
        cell["id"] = f"cell-{k:03d}"
    nb = nbformat.v4.new_notebook(cells=nb_cells, metadata={"kernelspec": KERNELSPEC,
                                                            "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def dumps(nb):
    """The notebook's bytes: nbformat's JSON (sorted keys), one trailing newline."""
    return nbformat.writes(nb, version=4) + "\n"


# ---------------------------------------------------------------- the chapters, from the nav

def _nav_items(items):
    """``(title or None, entry)`` for each item of a nav list as ``mkdocs.yml`` writes it."""
    for item in items or ():
        if isinstance(item, dict):
            yield from item.items()
        else:
            yield None, item


def _nav_pages(items):
    for title, entry in _nav_items(items):
        if isinstance(entry, list):
            yield from _nav_pages(entry)
        elif isinstance(entry, str) and entry.endswith(".md") and not EXTERNAL.match(entry):
            yield entry, title


def chapters(nav):
    """``[(src, title or None)]``: the pages under the nav's parts ("Part I: …"), in nav order.

    ``nav`` is the ``nav`` list as ``mkdocs.yml`` writes it (MkDocs and Zensical read the same).
    """
    return [page for title, entry in _nav_items(nav) if isinstance(entry, list) and title and SECTION.match(title)
            for page in _nav_pages(entry)]


def notebook_uri(src):
    """Where the notebook of the page ``src`` is published: ``loss.md`` gives ``loss.ipynb``."""
    return posixpath.splitext(src)[0] + ".ipynb"


def generated(nav, docs_dir, *, site_url=None, repo_url=None, use_directory_urls=True, root=ROOT):
    """``{notebook uri: bytes}`` for every chapter of ``nav`` whose source is in ``docs_dir``."""
    out = {}
    for src, title in chapters(nav):
        text = (Path(docs_dir) / src).read_text(encoding="utf-8")
        nb = convert(text, src, title=title, site_url=site_url, repo_url=repo_url,
                     use_directory_urls=use_directory_urls, root=root)
        out[notebook_uri(src)] = dumps(nb).encode("utf-8")
    return out
