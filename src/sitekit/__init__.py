"""Build tooling for the site, shared by the MkDocs build and the tests (not part of ``dismantle``).

- ``mdblocks``: one reading of a page's fenced blocks, walk-throughs and shown outputs.
- ``claims``: numbers in sentences tied to the code that produces them; ``extension`` shows them,
  ``coverage`` counts them (``make claims``).
- ``katex`` and ``figures``: Markdown extensions (typeset math; a figure's phone rendering), which
  MkDocs and Zensical both run; ``pages`` tells an extension which page it converts.
"""
