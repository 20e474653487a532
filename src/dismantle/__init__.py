"""dismantle: a neural network taken apart and rebuilt in NumPy, checked against PyTorch."""

from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .linear import Linear
from .module import Module, Parameter, Sequential

__all__ = [
    "GradcheckError",
    "Linear",
    "Module",
    "Parameter",
    "Sequential",
    "gradcheck",
    "numerical_gradient",
]
