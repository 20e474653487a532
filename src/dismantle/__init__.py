"""dismantle: a neural network taken apart and rebuilt in NumPy, checked against PyTorch."""

from . import autograd, functional, init
from .activations import ReLU, Sigmoid, Softmax, Tanh
from .data import batches, load_digits, make_spirals
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .linear import Linear
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential
from .optim import SGD, Adam, AdamW, Optimizer
from .serialization import load, save
from .training import History, evaluate, fit

__all__ = [
    "autograd",
    "Adam",
    "AdamW",
    "CrossEntropyLoss",
    "GradcheckError",
    "History",
    "Linear",
    "MSELoss",
    "Module",
    "Optimizer",
    "Parameter",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "batches",
    "evaluate",
    "fit",
    "functional",
    "gradcheck",
    "init",
    "is_grad_enabled",
    "load",
    "load_digits",
    "make_spirals",
    "no_grad",
    "numerical_gradient",
    "save",
]
