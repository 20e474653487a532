"""Small accessibility repairs to Material's HTML, each found by the axe-core browser test.

* Material's search dialog (``<div class="md-search" role="dialog">``) has no accessible name
  (axe ``aria-dialog-name``, impact serious): a screen reader announces an unnamed dialog.
  It gets ``aria-label="Search"``.
"""

SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'


def on_post_page(output, page, **kwargs):
    return output.replace(SEARCH_DIALOG, SEARCH_DIALOG[:-1] + ' aria-label="Search">', 1)
