"""Which ``dismantle`` names a piece of code uses, and which chapter introduces each one.

A learner reads the chapters in the nav's order, so a chapter may only use what it or an earlier
chapter introduced. Each chapter says what it introduces in its YAML front matter::

    ---
    introduces: [Linear, Parameter, functional.softmax]
    ---

A name is written as it is reached from ``import dismantle as dm`` (``dm.Linear`` is
``Linear``, ``dm.functional.softmax`` is ``functional.softmax``). Names are compared as the
objects they resolve to, so ``dm.fit`` and ``dm.training.fit`` are one name.

``uses`` reads code with ``ast`` (nothing runs) and follows every way a block reaches the
library: ``dm.X`` or ``dismantle.X`` under any alias, ``from dismantle import X`` (and
``from dismantle.functional import y``), a module bound to a name
(``F = dm.functional``, ``from dismantle import functional as F``), and attribute chains
(``dm.functional.softmax`` is ``functional.softmax``; the chain stops at the first object that
is not a module, so ``dm.Linear.forward`` is ``Linear``). The aliases of one page carry from
block to block, as in the page's notebook.
"""

import ast
import importlib
import re
import textwrap
import types
from dataclasses import dataclass

import yaml

from tests.mdblocks import runnable, scan

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)(?:---|\.\.\.)\s*\n", re.S)


@dataclass(frozen=True)
class Use:
    name: str  # as reached from `import dismantle as dm`: "Linear", "functional.softmax"
    line: int  # 1-based line in the page (or in the docstring)


def front_matter(text):
    """The page's YAML front matter as a dict ({} when it has none)."""
    m = FRONT_MATTER.match(text)
    return (yaml.safe_load(m.group(1)) or {}) if m else {}


def resolve(name):
    """The object a name reaches from ``import dismantle as dm``, or None if there is none."""
    obj = importlib.import_module("dismantle")
    for part in name.split("."):
        if not hasattr(obj, part):
            try:
                obj = importlib.import_module(f"{obj.__name__}.{part}") if isinstance(obj, types.ModuleType) else None
            except ImportError:
                return None
            if obj is None:
                return None
        else:
            obj = getattr(obj, part)
    return obj


def _chain(node):
    """['dm', 'functional', 'softmax'] for ``dm.functional.softmax``; None if not rooted at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _name_of(path, attrs):
    """Follow ``attrs`` from the module path ("dismantle.functional") while they are modules."""
    obj = importlib.import_module(path)
    name = path.split(".")[1:]
    for attr in attrs:
        name.append(attr)
        nxt = getattr(obj, attr, None)
        if nxt is None:
            try:
                nxt = importlib.import_module(f"{obj.__name__}.{attr}")
            except ImportError:
                return ".".join(name)  # an unknown name: reported, never silently dropped
        if not isinstance(nxt, types.ModuleType):
            return ".".join(name)
        obj = nxt
    return None  # the chain ended on a module: a namespace, not a name


class Reader:
    """Collects the dismantle names used by a sequence of code blocks (one page)."""

    def __init__(self):
        self.modules = {}  # local name -> dotted module path ("dm" -> "dismantle")

    def uses(self, code, first_line=1):
        tree = ast.parse(code)
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "dismantle" or alias.name.startswith("dismantle."):
                        if alias.asname:
                            self.modules[alias.asname] = alias.name
                        else:
                            self.modules["dismantle"] = "dismantle"
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and (
                    node.module == "dismantle" or node.module.startswith("dismantle.")):
                for alias in node.names:
                    name = _name_of(node.module, [alias.name])
                    if name is None:
                        self.modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    else:
                        found.append(Use(name, first_line + node.lineno - 1))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                chain = _chain(node.value)
                if chain and chain[0] in self.modules and _name_of(self.modules[chain[0]], chain[1:]) is None:
                    self.modules[node.targets[0].id] = ".".join([self.modules[chain[0]], *chain[1:]])
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):  # every sub-chain too: they resolve to the same name
                chain = _chain(node)
                if chain and chain[0] in self.modules:
                    name = _name_of(self.modules[chain[0]], chain[1:])
                    if name is not None:
                        found.append(Use(name, first_line + node.lineno - 1))
        return list(dict.fromkeys(found))


def page_uses(text):
    """Every dismantle name used by the runnable Python blocks of a page, with its line."""
    lines = text.splitlines()
    reader = Reader()
    found = []
    for fence in scan(lines):
        if not runnable(fence) or fence.info != "python":
            continue
        code = textwrap.dedent("\n".join(line[len(fence.indent):] if line.startswith(fence.indent) else line
                                         for line in fence.body))
        found += reader.uses(code, fence.start + 2)
    return found
