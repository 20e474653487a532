"""dismantle: a neural network taken apart and rebuilt in NumPy, checked against PyTorch."""

from .data import batches, load_digits, make_spirals
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .linear import Linear
from .module import Module, Parameter, Sequential
from .optim import SGD

__all__ = [
    "GradcheckError",
    "Linear",
    "Module",
    "Parameter",
    "SGD",
    "Sequential",
    "batches",
    "gradcheck",
    "load_digits",
    "make_spirals",
    "numerical_gradient",
]
