"""Compare two built sites page by page: the article bodies, and the whole pages.

    python scripts/site_diff.py BEFORE_SITE AFTER_SITE [--full]

Used when build logic moves (MkDocs hooks to Markdown extensions, templates and a pre-build
step, issue 29): build main's site into one folder, the branch's into another, and every page's
``<article>`` must be byte-identical. Prints each page that differs with the first differing
lines, the pages only one site has, and a summary line; exits 1 if any article body differs.
``--full`` also compares the whole HTML of each page (header, footer, scripts) and the other
files, and lists those that differ without failing on them.

``--text`` compares what a reader reads instead: each article's text, tags and permalink signs
removed and white space collapsed. For two generators' sites (MkDocs' ``site`` and ``make
zensical``'s), whose markup differs by design.
"""

import argparse
import difflib
import html as html_lib
import re
import sys
from pathlib import Path

ARTICLE = re.compile(r'<article class="md-content__inner[^"]*">.*?</article>', re.S)


def article(html):
    m = ARTICLE.search(html)
    return m[0] if m else None


def text(article_html):
    """What a reader reads in an article: no tags, no permalink signs, white space collapsed."""
    if article_html is None:
        return None
    body = re.sub(r'<a class="headerlink".*?</a>', "", article_html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def html_pages(site):
    return {p.relative_to(site).as_posix(): p for p in sorted(Path(site).rglob("*.html"))}


def first_diff(a, b, n=6):
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm="", n=0))
    return "\n".join(line[:300] for line in lines[: n + 2])


def compare(before, after, full=False, as_text=False):
    """``(article differences, other differences, pages only in one)``, each a list of strings."""
    a, b = html_pages(before), html_pages(after)
    bodies, others = [], []
    only = [f"only before: {k}" for k in sorted(a.keys() - b.keys())] + [
        f"only after: {k}" for k in sorted(b.keys() - a.keys())]
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key].read_text(encoding="utf-8"), b[key].read_text(encoding="utf-8")
        ax, ay = article(x), article(y)
        if as_text:
            ax, ay = text(ax), text(ay)
            ax, ay = ax and ax.replace(". ", ".\n"), ay and ay.replace(". ", ".\n")  # a sentence a line
        if ax != ay:
            bodies.append(f"{key}: article differs\n{first_diff(ax or '', ay or '')}")
        elif full and x != y:
            others.append(f"{key}: outside the article\n{first_diff(x, y)}")
    if full:
        fa = {p.relative_to(before).as_posix(): p for p in Path(before).rglob("*") if p.is_file()}
        fb = {p.relative_to(after).as_posix(): p for p in Path(after).rglob("*") if p.is_file()}
        only += [f"only before: {k}" for k in sorted(fa.keys() - fb.keys()) if not k.endswith(".html")]
        only += [f"only after: {k}" for k in sorted(fb.keys() - fa.keys()) if not k.endswith(".html")]
        for key in sorted(fa.keys() & fb.keys()):
            if not key.endswith(".html") and fa[key].read_bytes() != fb[key].read_bytes():
                others.append(f"{key}: differs")
    return bodies, others, only


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--text", action="store_true")
    args = parser.parse_args(argv)
    bodies, others, only = compare(args.before, args.after, args.full, args.text)
    for line in bodies + others + only:
        print(line)
    pages = len(html_pages(args.before))
    print(f"{pages} pages before, {len(html_pages(args.after))} after: {len(bodies)} article bodies differ, "
          f"{len(others)} other differences, {len(only)} files in one site only")
    return 1 if bodies else 0


if __name__ == "__main__":
    sys.exit(main())
