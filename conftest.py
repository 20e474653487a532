"""Doc-test plumbing: let every step of a cont-chain carry its own checked output.

See ``tests/mdblocks.py`` for the rewrite. Code blocks keep the line numbers they have in
the page, so a failure still points at the right place.
"""

import io

import numpy as np
import pytest_codeblocks.plugin as codeblocks_plugin
from pytest_codeblocks.main import extract_from_buffer

from tests.mdblocks import merge_chain_outputs, runnable, scan


def extract_with_step_outputs(path, encoding="utf-8"):
    """pytest-codeblocks' extraction, on the page rewritten by ``merge_chain_outputs``."""
    with open(path, encoding=encoding) as handle:
        text = handle.read()
    blocks = extract_from_buffer(io.StringIO(merge_chain_outputs(text)))
    starts = [f.start + 1 for f in scan(text.splitlines()) if runnable(f) and f.role == "code"]
    for block, line in zip(blocks, starts):
        block.lineno = line
    return blocks


codeblocks_plugin.extract_from_file = extract_with_step_outputs


NUMPY_PRINT_DEFAULTS = np.get_printoptions()


def pytest_runtest_setup(item):
    """Give every doc block a clean slate: no print options leak from one block to the next."""
    if isinstance(item, codeblocks_plugin.TestBlock):
        np.set_printoptions(**NUMPY_PRINT_DEFAULTS)
