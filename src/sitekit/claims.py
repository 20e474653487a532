r"""Numbers in sentences, tied to the code that produces them.

A writer marks a number in a sentence and ties it to an expression evaluated in the namespace
of a walk-through (a chain of runnable Python blocks) on the same page, after its last block::

    the network has {{31 = n_params}} parameters              value form
    a std of {{$6.1\times10^{-15}$ = stds[-1]}}               value form, scientific
    test accuracy {{96.6% = 100 * test_acc}}                   value form, the number before %
    {{about 10× smaller ? 8 <= big / small <= 12}}             comparison form: must be true
    {{three inputs ! an example's chosen size}}                exemption, with its reason

Readers see the shown text (``sitekit.extension`` renders it, with a keyboard-reachable hint
naming the expression); notebooks see the shown text (``plain``); the doc tests evaluate every
expression (``conftest.py`` calls ``check`` after a walk-through's last block has run, in its
namespace, so no block runs twice); ``make claims`` (``sitekit.coverage``) counts what is tied
and what is not. The exact rules are in the README, "Writing a page"; this module is their one
implementation.
"""

import re
from dataclasses import dataclass

from sitekit import mdblocks

SEPARATORS = (" = ", " ? ", " ! ")
KINDS = {" = ": "value", " ? ": "comparison", " ! ": "exempt"}
TARGET = re.compile(r"\s@(next|[A-Za-z_][\w-]*)\s*$")
WALKTHROUGH = re.compile(r"<!--\s*walkthrough:\s*([A-Za-z_][\w-]*)\s*-->")
COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s|\$)(?:\\.|[^\\$\n])+?(?<!\s)\$(?!\$)")
DISPLAY_MATH = re.compile(r"(?<!\\)\$\$.+?\$\$", re.S)
SPELLED = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
           "fifteen sixteen seventeen eighteen nineteen twenty").split()
SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
# One number as a page shows it. Groups: sign, mantissa/integer, fraction, exponent.
SIGN = r"(?P<sign>(?<![\w.)\]}])[-+])?"
NUMBER = re.compile(
    SIGN + r"(?:"
    r"(?P<sci>\d+(?:\.\d+)?)\s*[×·]\s*10(?:\^\{?(?P<sciexp>[-+]?\d+)\}?|(?P<scisup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))"
    r"|(?<![\d.])10(?:\^\{?(?P<powexp>[-+]?\d+)\}?|(?P<powsup>[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))"
    r"|(?P<emant>\d+(?:\.\d+)?)[eE](?P<eexp>[-+]?\d+)"
    r"|(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
    r")(?![\d.,]\d)"
)
SPELLED_WORD = re.compile(r"\b(" + "|".join(SPELLED) + r")\b", re.I)


class ClaimError(ValueError):
    """A claim that does not hold, or cannot be read: the message starts with ``page:line:``."""


@dataclass
class Claim:
    page: str
    line: int  # 1-based line of the opening ``{{``
    start: int  # offsets of the whole marker in the page's text
    end: int
    shown: str
    kind: str  # "value", "comparison" or "exempt"
    expr: str  # the expression, or the exemption's reason
    target: str = ""  # "" (nearest walk-through ending above), "next", or a walk-through's name
    in_math: bool = False

    @property
    def where(self):
        return f"{self.page}:{self.line}"

    @property
    def source(self):
        at = f" @{self.target}" if self.target else ""
        sep = {"value": "=", "comparison": "?", "exempt": "!"}[self.kind]
        return f"{{{{{self.shown} {sep} {self.expr}{at}}}}}"

    def fail(self, message):
        return ClaimError(f"{self.where}: {self.source}: {message}")


# ---------------------------------------------------------------- reading a page

def _blank(text, start, end):
    """``text`` with [start, end) replaced by spaces, newlines kept (offsets and lines unchanged)."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def front_matter_end(text):
    """Offset just past a YAML front matter block (0 when the page has none)."""
    if not text.startswith("---\n"):
        return 0
    m = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.M)
    return 4 + m.end() if m else 0


def fence_mask(text):
    """The page with front matter and fenced blocks blanked out."""
    text = _blank(text, 0, front_matter_end(text))
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    for f in mdblocks.scan(lines):
        text = _blank(text, offsets[f.start], offsets[min(f.end + 1, len(lines))])
    return text


def code_mask(text):
    """The page with front matter, fenced blocks, HTML comments and inline code blanked out."""
    text = fence_mask(text)
    for m in COMMENT.finditer(text):
        text = _blank(text, m.start(), m.end())
    return _blank_inline_code(text)


def _blank_inline_code(text):
    i = 0
    while True:
        i = text.find("`", i)
        if i < 0:
            return text
        run = len(text[i:]) - len(text[i:].lstrip("`"))
        close = re.compile(r"(?<!`)" + "`" * run + r"(?!`)")
        m = close.search(text, i + run)
        if m is None or "\n\n" in text[i:m.start()]:
            i += run
            continue
        text = _blank(text, i, m.end())
        i = m.end()


def _marker_end(text, i):
    """Offset just past the ``}}`` closing the marker opened at ``i``: braces inside must balance."""
    depth, k = 0, i + 2
    while k < len(text):
        c = text[k]
        if c == "\n" and text[k + 1 : k + 2] == "\n":
            return None  # a marker never spans a paragraph break
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0 and text[k + 1 : k + 2] == "}":
                return k + 2
            depth = max(depth - 1, 0)
        k += 1
    return None


def _split(body):
    """``(shown, separator, rest)`` at the first separator outside ``$…$`` in the shown text."""
    in_math = False
    for k, c in enumerate(body):
        if c == "$":
            in_math = not in_math
        elif not in_math:
            for sep in SEPARATORS:
                if body.startswith(sep, k):
                    return body[:k], sep, body[k + len(sep):]
    return None


def math_spans(text):
    """``[(start, end)]`` of every ``$$…$$`` and ``$…$`` formula in ``text`` (already code-masked)."""
    spans = [m.span() for m in DISPLAY_MATH.finditer(text)]
    rest = text
    for a, b in spans:
        rest = _blank(rest, a, b)
    spans += [m.span() for m in INLINE_MATH.finditer(rest)]
    return sorted(spans)


def find(text, page="<page>"):
    """Every claim marker of a page (outside code, comments and front matter), in page order."""
    masked = code_mask(text)
    found, i = [], 0
    while True:
        i = masked.find("{{", i)
        if i < 0:
            break
        end = _marker_end(masked, i)
        line = text.count("\n", 0, i) + 1
        parts = _split(" ".join(masked[i + 2 : end - 2].split())) if end else None
        if parts is None:
            found.append((i, end or i + 2, line, None))
        else:
            found.append((i, end, line, parts))
        i = end or i + 2
    hidden = masked
    for a, b, _, _ in found:
        hidden = hidden[:a] + "X" * (b - a) + hidden[b:]  # a marker's own $…$ is not a formula around it
    spans = math_spans(hidden)
    claims = []
    for a, b, line, parts in found:
        in_math = any(s <= a < e for s, e in spans)
        if parts is None:
            if in_math:
                continue  # TeX's own braces, e.g. x^{{2}}: not a marker
            raise ClaimError(f"{page}:{line}: {text[a:b]!r} is not a claim: write {{{{shown = expression}}}}, "
                             "{{shown ? comparison}} or {{shown ! reason}}, with a space each side of the sign")
        shown, sep, rest = parts
        target = ""
        m = TARGET.search(" " + rest)
        if m and sep != " ! ":
            target, rest = m.group(1), (" " + rest)[: m.start()].strip()
        claim = Claim(page, line, a, b, shown.strip(), KINDS[sep], rest.strip(), target, in_math)
        if not claim.shown or not claim.expr:
            raise claim.fail("the shown text and the expression (or reason) must both be written")
        if claim.kind != "exempt":
            try:
                compile(claim.expr, claim.where, "eval")
            except SyntaxError as err:
                raise claim.fail(f"the expression does not parse: {err.msg}") from None
        if claim.kind == "value":
            parse_shown(claim)
        claims.append(claim)
    return claims


# ---------------------------------------------------------------- what the reader and the notebook see

def plain(text, page="<page>"):
    """The page with every marker replaced by its shown text."""
    for claim in reversed(find(text, page)):
        text = text[: claim.start] + claim.shown + text[claim.end :]
    return text


# ---------------------------------------------------------------- the shown number and the value

def _tex_to_text(shown):
    s = shown.replace("$", "").replace("−", "-").replace("\\%", "%").replace("{,}", ",")
    s = re.sub(r"\\[,!;: ]|~", " ", s)
    s = s.replace("\\times", "×").replace("\\cdot", "·")
    return s


def numbers_in(text):
    """The numbers written in ``text`` (matches of ``NUMBER``), after TeX spelling is read."""
    return list(NUMBER.finditer(_tex_to_text(text)))


def parse_shown(claim):
    """``(kind, digits)`` of the one number a value claim shows; raises ``ClaimError`` otherwise."""
    found = numbers_in(claim.shown)
    if not found:
        words = SPELLED_WORD.findall(claim.shown)
        if len(words) == 1:
            return "spelled", SPELLED.index(words[0].lower())
        raise claim.fail("the value form needs the shown text to hold one number (digits, or a word "
                         "from zero to twenty)")
    if len(found) > 1:
        shown = ", ".join(m.group(0).strip() for m in found)
        raise claim.fail(f"the value form shows one number, this shows {len(found)} ({shown}): tie each, "
                         "or use the comparison form (?)")
    m = found[0]
    sign = m.group("sign") or ""
    if m.group("sci") or m.group("emant"):
        mant = m.group("sci") or m.group("emant")
        exp = m.group("sciexp") or m.group("eexp") or (m.group("scisup") or "").translate(SUPERSCRIPT)
        if not 1 <= float(mant) < 10:
            raise claim.fail(f"write the mantissa between 1 and 10 (not {mant}), as Python's e-format does")
        return "scientific", (sign, mant, int(exp))
    if m.group("powexp") or m.group("powsup"):
        exp = m.group("powexp") or m.group("powsup").translate(SUPERSCRIPT)
        return "scientific", (sign, "1", int(exp))
    return "fixed", (sign, m.group("int"), m.group("frac") or "")


def _number(value, claim):
    """``value`` as a Python int or float, or a ``ClaimError`` saying what it was."""
    if hasattr(value, "item"):  # a NumPy scalar, a one-element array or tensor
        try:
            value = value.item()
        except (ValueError, RuntimeError):
            raise claim.fail(f"the expression gives an array of shape {tuple(value.shape)}, not one number") from None
    if isinstance(value, (bool, str, bytes)):  # a string would check a number against itself
        raise claim.fail(f"the expression gives {value!r}, not a number")
    if not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise claim.fail(f"the expression gives {value!r}, not a number") from None
    return value


def formatted(claim, value):
    """The value written the way the claim shows its number (the text the shown number must equal)."""
    kind, parts = parse_shown(claim)
    value = _number(value, claim)
    if kind == "spelled":
        text = f"{value:.0f}"
        return SPELLED[int(text)] if text.isdigit() and int(text) <= 20 else text
    sign, a, b = parts
    plus = "+" if sign == "+" else ""
    if kind == "scientific":
        digits = len(a.replace(".", ""))
        mant, _, exp = f"{value:{plus}.{digits - 1}e}".partition("e")
        return f"{mant}e{int(exp)}"
    grouping = "," if "," in a else ""
    text = f"{value:{plus}{grouping}.{len(b)}f}"
    if re.fullmatch(r"[-+]?[0,.]*", text):
        text = text.lstrip("-+")  # -0.00 shows as 0.00
    return text


def written(claim):
    """The shown number in the form ``formatted`` produces."""
    kind, parts = parse_shown(claim)
    if kind == "spelled":
        return SPELLED[parts]
    sign, a, b = parts
    sign = sign.replace("−", "-")
    if kind == "scientific":
        return f"{sign}{a}e{b}"
    return f"{sign}{a}" + (f".{b}" if b else "")


# ---------------------------------------------------------------- walk-throughs

@dataclass
class Walkthrough:
    first: int  # 1-based line of its first block's fence
    last: int  # 1-based line of its last block's fence
    end: int  # 1-based line where it ends (its last block, or the output shown under it)
    name: str = ""


def walkthroughs(text, page="<page>"):
    """The page's Python walk-throughs (cont-chains), in page order, with their names."""
    lines = text.splitlines(keepends=True)
    fences = mdblocks.scan(lines)
    outputs = {}
    for steps, outs in mdblocks.chains(fences):
        outputs[steps[-1].start] = outs.get(len(steps) - 1)
    out = []
    for steps, _ in mdblocks.chains(fences):
        if steps[0].info != "python":
            continue
        last = steps[-1]
        shown = outputs.get(last.start)
        end = (shown.end if shown is not None else last.end) + 1
        out.append(Walkthrough(steps[0].start + 1, last.start + 1, end))
    names = {}
    for m in WALKTHROUGH.finditer(_blank_inline_code(fence_mask(text))):
        line = text.count("\n", 0, m.start()) + 1
        name = m.group(1)
        if name == "next":
            raise ClaimError(f"{page}:{line}: 'next' cannot name a walk-through (@next means the next one below)")
        after = [w for w in out if w.first > line]
        if not after:
            raise ClaimError(f"{page}:{line}: <!--walkthrough: {name}--> has no Python walk-through below it")
        if name in names:
            raise ClaimError(f"{page}:{line}: the walk-through name {name!r} is used twice (also line {names[name]})")
        if after[0].name:
            raise ClaimError(f"{page}:{line}: the walk-through at line {after[0].first} is already named "
                             f"{after[0].name!r}")
        after[0].name, names[name] = name, line
    return out


def resolve(claim, walks):
    """The walk-through a (non-exempt) claim is evaluated in, or a ``ClaimError`` saying why none."""
    if claim.target == "next":
        below = [w for w in walks if w.first > claim.line]
        if not below:
            raise claim.fail("@next, but no Python walk-through starts below it")
        return below[0]
    if claim.target:
        named = [w for w in walks if w.name == claim.target]
        if not named:
            known = ", ".join(sorted(w.name for w in walks if w.name)) or "none"
            raise claim.fail(f"no walk-through is named {claim.target!r} on the page (named: {known}); "
                             f"name one with <!--walkthrough: {claim.target}--> above its first block")
        return named[0]
    above = [w for w in walks if w.end < claim.line]
    if not above:
        raise claim.fail("no Python walk-through ends above it: move it below one, or use @next or @NAME")
    return above[-1]


def plan(text, page="<page>"):
    """``{(first, last): [claims]}``, by the fence lines of a walk-through's first and last blocks:
    what to check once each walk-through has run."""
    walks = walkthroughs(text, page)
    todo = {}
    for claim in find(text, page):
        if claim.kind != "exempt":
            walk = resolve(claim, walks)
            todo.setdefault((walk.first, walk.last), []).append(claim)
    return todo


# ---------------------------------------------------------------- checking

_kept = []


def keep(namespace):
    """Called by the rewritten last block of a walk-through: hands its namespace to ``check``."""
    _kept.append(namespace)


def take():
    """The namespace the last block kept (``None`` if it kept none), and forget it."""
    namespace = _kept[-1] if _kept else None
    _kept.clear()
    return namespace


def check(claim, namespace):
    """Raise ``ClaimError`` unless the claim holds in ``namespace``."""
    try:
        value = eval(claim.expr, namespace)
    except Exception as err:
        raise claim.fail(f"the expression raised {type(err).__name__}: {err}") from None
    if claim.kind == "comparison":
        try:
            holds = bool(value)
        except Exception as err:
            raise claim.fail(f"the comparison gives {value!r}, which is neither true nor false ({err})") from None
        if not holds:
            raise claim.fail(f"the comparison is false (it gives {value!r})")
        return
    want, got = written(claim), formatted(claim, value)
    if want != got:
        raise claim.fail(f"shows {want}, but the expression gives {value!r}, which is {got} at the shown "
                         "precision")


def check_all(claims, namespace):
    """Check every claim; raise one ``ClaimError`` listing each that fails."""
    errors = []
    for claim in claims:
        try:
            check(claim, namespace)
        except ClaimError as err:
            errors.append(str(err))
    if errors:
        raise ClaimError("\n".join(errors))
