"""The Python-Markdown extension that shows tied numbers as plain text (``sitekit.claims``).

Registered in ``mkdocs.yml`` as ``sitekit.extension``. A Markdown extension, not a MkDocs hook,
because Zensical, Material's successor, runs extensions and skips hooks.

Each ``{{shown = expression}}`` or ``{{shown ? comparison}}`` becomes its shown text, wrapped so
that a reader who hovers it, or reaches it with the Tab key, sees which expression the build
checks it against; screen readers announce that as the number's description. The shown text
stays Markdown, so ``$…$`` inside it is still typeset. An exemption (``{{three ! reason}}``) and
a marker inside a formula become the bare shown text. A marker that cannot be read stops the
build with its page and line.
"""

import html
import inspect
import itertools

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from sitekit import claims

PRIORITY = 29  # after snippets (32) and whitespace normalisation (30), before fenced code (25)


def hint(claim):
    """The sentence a reader sees on hover or focus, and hears as the number's description."""
    return f"Checked against the code: {claim.expr}"


class ClaimsPreprocessor(Preprocessor):
    def __init__(self, md, ext):
        super().__init__(md)
        self.ext = ext

    def run(self, lines):
        text = "\n".join(lines)
        page = self.ext.page()
        try:
            found = claims.find(text, page)
        except claims.ClaimError as err:
            raise _build_error(str(err)) from None
        shown = [self.render(claim) for claim in found]  # in page order: ids count down the page
        for claim, html_ in reversed(list(zip(found, shown))):
            text = text[: claim.start] + html_ + text[claim.end :]
        return text.split("\n")

    def render(self, claim):
        if claim.kind == "exempt" or claim.in_math:
            return claim.shown
        ident = f"claim-{next(self.ext.ids)}"
        opening = self.md.htmlStash.store(
            f'<span class="claim"><span class="claim-value" tabindex="0" aria-describedby="{ident}">')
        closing = self.md.htmlStash.store(
            f'</span><span class="claim-hint" id="{ident}" role="tooltip" aria-hidden="true" '
            f"data-search-exclude>{html.escape(hint(claim))}</span></span>")
        return opening + claim.shown + closing


class ClaimsExtension(Extension):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ids = itertools.count(1)
        self.md = None

    @staticmethod
    def page():
        """The page being converted, for error messages: MkDocs' ``Page.render`` up the stack, if any."""
        for frame in inspect.stack(0):
            src = getattr(getattr(frame.frame.f_locals.get("self"), "file", None), "src_uri", None)
            if isinstance(src, str):
                return src
        return "<page>"

    def reset(self):
        self.ids = itertools.count(1)

    def extendMarkdown(self, md):
        self.md = md
        md.registerExtension(self)
        md.preprocessors.register(ClaimsPreprocessor(md, self), "sitekit_claims", PRIORITY)


def _build_error(message):
    """MkDocs' own error (a clean one-line abort) when MkDocs is building, else a ``ClaimError``."""
    try:
        from mkdocs.exceptions import PluginError
    except ImportError:
        return claims.ClaimError(message)
    return PluginError(message)


def makeExtension(**kwargs):
    return ClaimsExtension(**kwargs)
