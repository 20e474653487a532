"""MkDocs only: publish KaTeX's stylesheet and woff2 fonts under ``assets/katex/``.

The formulas themselves are typeset by the Markdown extension ``sitekit.katex``, which MkDocs
and Zensical both run; the files come from ``sitekit.katex.assets``.
"""

from mkdocs.structure.files import File

from sitekit import katex


def on_files(files, config, **kwargs):
    for uri, content in katex.assets().items():
        files.append(File.generated(config, uri, content=content))
    return files
