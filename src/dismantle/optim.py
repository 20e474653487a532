r"""Optimizers, step for step the same as torch's: `SGD`, `Adam` and `AdamW`, on the `Optimizer` base.

Each lives in its own file (`optimizer.py`, `sgd.py`, `adam.py`), as torch's do; this module
gathers them under one name, `dismantle.optim`, like `torch.optim`.

Examples:
    >>> import dismantle as dm
    >>> dm.optim.SGD is dm.SGD and dm.optim.Adam is dm.Adam and dm.optim.AdamW is dm.AdamW
    True
"""

from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .sgd import SGD

__all__ = ["Adam", "AdamW", "Optimizer", "SGD", "required"]
