"""dismantle: a neural network taken apart and rebuilt in NumPy, checked against PyTorch."""

from . import autograd, functional, init, lr_scheduler
from .activations import ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .batchnorm import BatchNorm1d, BatchNorm2d
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .conv import Conv2d
from .data import batches, load_digits, make_spirals
from .dropout import Dropout
from .embedding import Embedding
from .grad_mode import is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .linear import Linear
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter, Sequential
from .normalization import LayerNorm
from .optim import SGD, Adam, AdamW, Optimizer
from .pooling import AvgPool2d, Flatten, MaxPool2d
from .serialization import load, save
from .training import History, evaluate, fit
from .transformer import TransformerEncoderLayer

__all__ = [
    "autograd",
    "Adam",
    "AvgPool2d",
    "AdamW",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GradcheckError",
    "History",
    "LayerNorm",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "MultiheadAttention",
    "Optimizer",
    "Parameter",
    "ReLU",
    "SGD",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TransformerEncoderLayer",
    "batches",
    "clip_grad_norm_",
    "clip_grad_value_",
    "evaluate",
    "fit",
    "functional",
    "gradcheck",
    "init",
    "is_grad_enabled",
    "load",
    "load_digits",
    "lr_scheduler",
    "make_spirals",
    "no_grad",
    "numerical_gradient",
    "save",
]
