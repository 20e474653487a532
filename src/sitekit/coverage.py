r"""``make claims``: which numbers in the site's prose are tied to code, which are exempt, which are not.

Run as ``python -m sitekit.coverage [--quiet] [page ...]``. It lists every tied number
(``page:line  shown  expression``), every exemption with its reason, then every number in
prose that is neither, and ends with exactly one line::

    claims: N numbers in prose, B checked, E exempt, U unchecked

The pages counted are the nav's prose pages: every page in ``mkdocs.yml``'s nav except the API
reference (``docs/reference/``), whose text is the docstrings, checked by doctest.

What counts as a number in prose (the rules the README's "Writing a page" states):

* a run of digits, with its decimal part, thousands separators, exponent (``6.1e-15``,
  ``6.1 × 10⁻¹⁵``) and a version's extra parts (``2.13.0`` is one number), not glued to a
  word (``w1``, ``float64``, ``3D``, ``1st`` are names, not numbers);
* in math, the number a formula ends on, when it has a decimal point or a power of ten: a
  formula (or a row of an aligned one) whose last side is such a number states a value, and that
  number counts (``0.13`` in ``$0.1 \cdot 0.9 + 0.4 \cdot 0.1 = 0.13$``, ``0.1`` in
  ``$\eta = 0.1$``, ``$10^{-12}$``, the whole of ``$6.1\times10^{-15}$``); every other number in
  math belongs to the formula it defines (``x^2``, ``\frac{1}{2}``, ``\partial b/\partial b = 1``,
  the entries of a matrix, the factors of a product);
* not counted: fenced and inline code, HTML comments and tags, front matter, headings and the
  titles of admonitions and tabs, link text and addresses, attribute lists, the numbers of an
  ordered list (``1. Linearity``), and spelled numbers
  ("three inputs": tie one with ``{{three = n}}`` when it is measured).

A claim marker counts once: as checked (``=``, ``?``) or as exempt (``!``), whatever it shows.
A line ``<!--exempt: reason-->`` exempts, with that reason, every number of the block that
follows it (a table of an example's inputs, a list of references), up to the next blank line.
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from sitekit import claims

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PROSE_NUMBER = re.compile(
    r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)*(?:[eE][-+]?\d+)?"
    r"(?:\s*[×·]\s*10(?:\^\{?[-+]?\d+\}?|[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))?(?!\w)"
)
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:[eE][-+]?\d+)?(?!\w)|(?<![\w.])\d+(?:\.\d+)?[eE][-+]?\d+(?!\w)")
BARE_MATH = re.compile(
    r"\s*[-+]?(?:\d+(?:\.\d+)?(?:\s*[×·]\s*10\^\{?[-+]?\d+\}?)?|10\^\{?[-+]?\d+\}?)\s*%?\s*"
)
RELATION = re.compile(r"=|\\approx|\\simeq|\\sim|\\leq?|\\geq?|\\lt|\\gt|<|>|≈")
MATH_SPACING = re.compile(r"\\(?:q?quad|[,;:! ]|text\{[^}]*\}|mathrm\{[^}]*\})|\\\\|&")
EXEMPT_BLOCK = re.compile(r"^[ \t]*<!--\s*exempt:\s*(.+?)\s*-->[ \t]*\n((?:[ \t]*\S.*(?:\n|$))*)", re.M)
NOT_PROSE = [
    re.compile(r"^[ \t]*#{1,6}[ \t].*$", re.M),  # headings
    re.compile(r'^[ \t]*(?:!!!|\?\?\?\+?|===\+?!?)[ \t].*$', re.M),  # admonition and tab titles
    re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S.*$", re.M),  # link reference definitions
    re.compile(r"^[ \t]*\*\[[^\]\n]+\]:.*$", re.M),  # abbreviation definitions
    re.compile(r"^[ \t]*;?--8<--.*$", re.M),  # snippets
    re.compile(r"^[ \t]*\d+\.(?=[ \t])", re.M),  # the numbers of an ordered list
    re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\](?:\([^)]*\)|\[[^\]]*\])"),  # links and images, text and target
    re.compile(r"<https?://[^>\s]+>|https?://[^\s)>\]]+"),  # bare addresses
    re.compile(r"</?[A-Za-z][^>]*>"),  # HTML tags
    re.compile(r"\{\s*[:#.][^}\n]*\}"),  # attribute lists
]


@dataclass
class Number:
    page: str
    line: int
    text: str
    status: str  # "checked", "exempt" or "unchecked"
    detail: str = ""  # the expression, the reason, or the sentence around it


def prose_pages(config=ROOT / "mkdocs.yml"):
    """The nav's pages, minus the API reference, as paths relative to docs/."""
    text = config.read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    pages = re.findall(r"""^\s*-\s+(?:(?:"[^"\n]*"|'[^'\n]*'|[^:\n]+):\s+)?([\w./-]+\.md)\s*$""", nav, re.M)
    return [p for p in pages if not p.startswith("reference/")]


def _blank_all(text, pattern):
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _context(text, start, end):
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : line_end if line_end >= 0 else None].strip()
    return line if len(line) <= 90 else line[:87] + "..."


def scan_page(text, page):
    """Every number in the page's prose, tied or not, in page order."""
    found = []
    masked = claims.code_mask(text)
    for claim in claims.find(text, page):
        status = "exempt" if claim.kind == "exempt" else "checked"
        found.append(Number(page, claim.line, claim.shown, status, claim.expr))
        # not spaces: a marker inside a formula must keep the formula a formula ($… = X$)
        masked = masked[: claim.start] + re.sub(r"[^\n]", "X", masked[claim.start : claim.end]) + masked[claim.end :]
    for pattern in NOT_PROSE:
        masked = _blank_all(masked, pattern)
    untied = []
    for start, end in claims.math_spans(masked):
        untied += [(start + a, start + b) for a, b in _math_results(masked[start:end])]
        masked = claims._blank(masked, start, end)
    untied += [m.span() for m in PROSE_NUMBER.finditer(masked)]
    exempt = [(m.start(2), m.end(2), m.group(1)) for m in EXEMPT_BLOCK.finditer(text)]
    for a, b in untied:
        reason = next((r for s, e, r in exempt if s <= a < e), None)
        status, detail = ("exempt", reason) if reason else ("unchecked", _context(text, a, b))
        found.append(Number(page, text.count("\n", 0, a) + 1, text[a:b].strip(), status, detail))
    return sorted(found, key=lambda n: n.line)


def _math_results(math):
    """Spans, within one ``$…$``/``$$…$$``, of the numbers its rows end on (see the module doc)."""
    out, pos = [], 0
    for row in re.split(r"(\\\\)", math):
        if row != "\\\\":
            body = row.strip("$")
            offset = pos + row.find(body) if body else pos
            last = list(RELATION.finditer(body))
            side_start = last[-1].end() if last else 0
            side = body[side_start:]
            cleaned = MATH_SPACING.sub(" ", side).rstrip(" \n,.;")
            tex = claims._tex_to_text(cleaned).replace("×", r"\times").replace("·", r"\times")
            bare = tex.replace(r"\times", "×")
            if cleaned.strip() and BARE_MATH.fullmatch(bare) and re.search(r"[.^]", bare):
                lead = len(side) - len(side.lstrip())
                out.append((offset + side_start + lead, offset + side_start + lead + len(cleaned.strip())))
        pos += len(row)
    return out


def survey(pages=None, docs=DOCS):
    """``{page: [Number]}`` for the given pages (paths under docs/), or every prose page."""
    return {page: scan_page((docs / page).read_text(encoding="utf-8"), f"docs/{page}")
            for page in (pages or prose_pages())}


def totals(numbers):
    """``(N, B, E, U)`` of a list of ``Number``s."""
    count = {s: sum(1 for n in numbers if n.status == s) for s in ("checked", "exempt", "unchecked")}
    return len(numbers), count["checked"], count["exempt"], count["unchecked"]


def summary(numbers):
    n, b, e, u = totals(numbers)
    return f"claims: {n} numbers in prose, {b} checked, {e} exempt, {u} unchecked"


def report(found, quiet=False):
    """The lines ``make claims`` prints."""
    every = [n for numbers in found.values() for n in numbers]
    out = []
    if not quiet:
        for status, title in (("checked", "Tied to the code"), ("exempt", "Exempt, with the reason"),
                              ("unchecked", "Not tied (untied numbers in prose)")):
            rows = [n for n in every if n.status == status]
            out.append(f"{title}: {len(rows)}")
            out += [f"  {n.page}:{n.line}  {n.text}  {n.detail}" for n in rows]
            out.append("")
    out.append("Per page: numbers, checked, exempt, unchecked")
    width = max((len(p) for p in found), default=0)
    for page, numbers in found.items():
        n, b, e, u = totals(numbers)
        out.append(f"  {page:<{width}}  {n:4d} {b:4d} {e:4d} {u:4d}")
    out.append(summary(every))
    return out


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    quiet = "--quiet" in args
    pages = [a.removeprefix("docs/") for a in args if a != "--quiet"]
    try:
        found = survey(pages or None)
    except claims.ClaimError as err:
        print(f"claims: {err}", file=sys.stderr)
        return 1
    print("\n".join(report(found, quiet)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
