r"""Parameters, the `Module` base class and `Sequential`: the skeleton every layer hangs on."""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ._checks import as_float_array, check_shape
from .grad_mode import is_grad_enabled


class Parameter:
    r"""A learnable array and the gradient that accumulates for it.

    `data` holds the values; `grad` is `None` or an array of the same shape and dtype. It
    starts at zeros (torch starts at `None`; zeros let a page write `p.grad[:] = ...` at once).
    Every `backward` *adds* into `grad` (like torch), so call `zero_grad()` between steps;
    after `zero_grad(set_to_none=True)` it is `None` again, and optimizers skip a parameter
    whose `grad` is `None`, as torch's do. Assigning a `grad` of another shape or dtype is
    refused, as torch refuses it.

    Args:
        data: the initial values, anything `np.asarray` reads as real numbers (an ndarray, a
            list, a float); copied into a new float ndarray (float64 for ints).

    Raises:
        TypeError: for data that is not real numbers (`None`, strings, complex, ragged lists).

    Examples:
        >>> import numpy as np
        >>> from dismantle import Parameter
        >>> p = Parameter(np.array([1.0, 2.0]))
        >>> p.grad
        array([0., 0.])
    """

    def __init__(self, data):
        self.data = _float_copy(data)
        self._grad = np.zeros_like(self.data)

    @property
    def grad(self):
        """The accumulated gradient: an array shaped and typed like `data`, or `None`."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, np.ndarray):
                raise TypeError(f"assigned grad expected to be a NumPy ndarray or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.data.shape:
                raise ValueError(f"attempting to assign a gradient of shape {value.shape} to a parameter of shape "
                                 f"{self.data.shape}. Please ensure that the gradient and the parameter are the same size")
            if value.dtype != self.data.dtype:
                raise TypeError(f"attempting to assign a gradient with dtype {value.dtype} to a parameter with dtype "
                                f"{self.data.dtype}. The gradient must match the parameter's dtype")
        self._grad = value

    def accumulate_grad(self, g, *, copy=True):
        """Add `g` into `grad` in place, or make `grad` a copy of `g` if it is `None` (torch's AccumulateGrad).

        `copy=False` says `g` is a new array nobody else holds: it becomes `grad` itself.
        """
        if np.shape(g) != self.data.shape:
            raise ValueError(f"Parameter.accumulate_grad: expected shape {self.data.shape}, got {np.shape(g)}")
        if self._grad is None:
            owned = not copy and isinstance(g, np.ndarray) and g.dtype == self.data.dtype
            self.grad = g if owned else np.array(g, dtype=self.data.dtype)
        else:
            self._grad += g

    @property
    def shape(self):
        """The shape of `data` (and of `grad`)."""
        return self.data.shape

    def zero_grad(self):
        """Reset `grad` to zeros, in place (nothing to do if it is `None`)."""
        if self._grad is not None:
            self._grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def _float_copy(data):
    """A new float ndarray holding `data`, or a TypeError naming `Parameter`."""
    wanted = "Parameter: expected real numbers (an array-like of floats), got"
    try:
        arr = np.asarray(data)
    except ValueError:  # NumPy's "inhomogeneous shape"
        raise TypeError(f"{wanted} a ragged nested sequence") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{wanted} {arr.dtype if isinstance(data, (list, tuple, np.ndarray)) else type(data).__name__}")
    return np.array(arr, dtype=np.result_type(arr.dtype, np.float32))


_depth = [0]  # how deep the current Module.__call__ is nested: 0 outside any call

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    r"""Base class: `module(x)` calls `forward(x)`; `backward(grad_output)` returns $\partial L/\partial x$.

    `__init__` sets up three registries, filled by plain assignment as in torch: a `Parameter`
    assigned to an attribute is a parameter, a `Module` a child, and `register_buffer` adds a
    buffer (an array that is state but not learned, like BatchNorm's running mean). Every
    subclass calls `super().__init__()` first. The registries give `named_parameters()`,
    `named_buffers()`, `named_modules()`, `state_dict()` and `train()`/`eval()` (`.training`).

    `forward` saves what `backward` needs with `save_for_backward(...)`, and `backward` takes
    it back with `saved()`. The saved values form a last-in-first-out stack, so a module used
    twice in one forward (weight tying, `Sequential(l, ReLU(), l)`) is backpropagated in
    reverse order and its gradients add up, as torch's do. A top-level call `model(x)` starts
    a new graph, as a new forward does in torch: what an earlier call saved and no backward
    used is dropped (inside `no_grad()`, nothing is saved and nothing dropped). As in torch,
    one forward allows one backward: a second `backward` raises instead of adding the
    gradients again. `backward(grad_output, *, input_grad=False)` skips the gradient of the
    input and returns `None`.
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"], d["_buffers"], d["_modules"] = {}, {}, {}
        d["_non_persistent_buffers"] = set()
        d["_saved"], d["_used"] = [], False

    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                kind = "parameters" if isinstance(value, Parameter) else "module"
                raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
            return object.__setattr__(self, name, value)
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            _forget(name, buffers, modules, d["_non_persistent_buffers"])
            params[name] = value
        elif isinstance(value, Module):
            _forget(name, params, buffers, d["_non_persistent_buffers"])
            modules[name] = value
        elif name in params or name in modules:
            kind, wanted = ("parameter", "Parameter") if name in params else ("child module", "Module")
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as {kind} '{name}' ({wanted} or None expected)")
            (params if name in params else modules)[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (ndarray or None expected)")
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        _forget(name, *(self.__dict__.get(k, {}) for k in ("_parameters", "_buffers", "_modules")))
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add `param` (a `Parameter`, or `None` for an absent one such as `bias=False`) as `name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(Parameter or None required)")
        self.__dict__["_parameters"][name] = None  # registered first, so that None is accepted
        setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add an array that is state but not learned; `persistent=False` keeps it out of `state_dict`."""
        if tensor is not None and not isinstance(tensor, np.ndarray):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (ndarray or None required)")
        if "." in name or not name:
            raise KeyError(f'buffer name can\'t contain "." or be empty, got {name!r}')
        _forget(name, self._parameters, self._modules)
        self._buffers[name] = tensor
        (self._non_persistent_buffers.discard if persistent else self._non_persistent_buffers.add)(name)
        object.__setattr__(self, name, tensor)

    # --- walking the tree ------------------------------------------------------------------------

    def named_modules(self, memo=None, prefix=""):
        """Yield `(name, module)` for this module and every descendant, depth first, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        """Yield this module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield `(name, child)` for the direct children, each once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """Yield the direct children, each once."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        tree = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, m in tree:
            for name, value in m.__dict__[registry].items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """Yield `(name, Parameter)` in torch's order (`"0.weight"`, `"0.bias"`, ...), each once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Return the list of parameters in torch's order, a shared one once (torch yields the same)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix="", recurse=True):
        """Yield `(name, array)` for every buffer, in torch's order, each once."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        """Return the list of buffers in torch's order."""
        return [b for _, b in self.named_buffers(recurse=recurse)]

    # --- state_dict: every parameter and persistent buffer, by torch's names -----------------------

    def _state_items(self, prefix=""):
        """Yield `(key, array)` for every parameter and persistent buffer, as torch's state_dict lists them."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p.data
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, m in self._modules.items():
            if m is not None:
                yield from m._state_items(f"{prefix}{name}.")

    def state_dict(self):
        """Return `{name: array}` for every parameter and persistent buffer, with torch's keys and order.

        Keys are torch's (`"0.weight"`, `"0.bias"`, `"1.running_mean"` in a `Sequential`), so
        `{k: v.numpy() for k, v in torch_model.state_dict().items()}` loads into the same model
        built here, and `{k: torch.from_numpy(v) ...}` of ours into torch's. Unlike torch's, whose
        tensors share memory with the model, the arrays are copies: a snapshot.
        """
        return {key: value.copy() for key, value in self._state_items()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy `state_dict`'s arrays into the parameters and buffers, in place; all checked first.

        With `strict`, missing and unexpected keys are errors, with torch's messages; a value of
        another shape always is. A refused call changes nothing (torch may have copied some
        entries before it raises). Values are cast to each parameter's dtype, as torch's `copy_`.

        Returns:
            `IncompatibleKeys(missing_keys, unexpected_keys)`, as torch.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        targets = list(self._state_items())
        keys = {key for key, _ in targets}
        missing = [key for key, _ in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in keys]
        errors = []
        for key, target in targets:
            value = state_dict.get(key)
            if key not in state_dict:
                continue
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                got = f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value)
                errors.append(f'While copying the parameter named "{key}", expected a NumPy ndarray of numbers '
                              f"from checkpoint but received {got}")
            elif value.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                              f"the shape in current model is {target.shape}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise ValueError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__,
                                                                                 "\n\t".join(errors)))
        for key, target in targets:
            if key in state_dict:
                target[...] = state_dict[key]
        return IncompatibleKeys(missing, unexpected)

    # --- modes and gradients ---------------------------------------------------------------------

    def train(self, mode=True):
        """Set `.training` on this module and every descendant (Dropout, BatchNorm read it); return self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """`train(False)`: evaluation mode; return self."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to `None` (torch's default), or to zeros in place."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            else:
                p.zero_grad()

    # --- forward, backward and the saved-values stack -----------------------------------------------

    def __call__(self, *args, **kwargs):
        saved = self.__dict__.get("_saved")
        if saved is None:
            raise AttributeError(f"{type(self).__name__}: Module.__init__() was not called; "
                                 "call super().__init__() first in __init__")
        if _depth[0] or not is_grad_enabled():
            return self._nested_call(args, kwargs)
        tree = list(self.modules())  # a top-level call: a new graph
        marks = [len(m._saved) for m in tree]
        try:
            out = self._nested_call(args, kwargs)
        except BaseException:
            for m, k in zip(tree, marks):
                del m._saved[k:]  # a refused call saves nothing and drops nothing
            raise
        for m, k in zip(tree, marks):
            del m._saved[:k]  # what earlier calls saved and no backward used
        return out

    def _nested_call(self, args, kwargs):
        _depth[0] += 1
        try:
            return self.forward(*args, **kwargs)
        finally:
            _depth[0] -= 1

    def save_for_backward(self, *values):
        """Push `values` for the matching `backward` (nothing is saved under `no_grad()`)."""
        if is_grad_enabled():
            self._saved.append(values)
            self.__dict__["_used"] = False

    def saved(self, *, peek=False):
        """Pop (or with `peek=True`, just read) the tuple saved by the most recent unmatched forward."""
        if not self._saved:
            name = type(self).__name__
            if self._used:
                raise ValueError(
                    f"{name}.backward() called twice after one forward(): the first backward used up the "
                    "values forward saved (as torch frees its graph); run forward() again before the next backward()")
            raise ValueError(f"{name}.backward() called before forward(): nothing is cached")
        if peek:
            return self._saved[-1]
        self.__dict__["_used"] = True
        return self._saved.pop()

    def forward(self, x):
        """Compute the output; subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def backward(self, grad_output, *, input_grad=True):
        """Return the gradient with respect to the input (`None` if not `input_grad`); subclasses override this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement backward()")


def _forget(name, *registries):
    for registry in registries:
        if isinstance(registry, dict):
            registry.pop(name, None)
        else:
            registry.discard(name)


class Sequential(Module):
    r"""Chain modules: $f(x) = f_n(\dots f_2(f_1(x)))$; backward runs the chain in reverse.

    By the chain rule, $\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial a_n}
    \dfrac{\partial a_n}{\partial a_{n-1}} \cdots \dfrac{\partial a_1}{\partial x}$, so
    `backward` hands each module the gradient returned by the module after it. The modules are
    children named `"0"`, `"1"`, ..., so parameter names are torch's (`"0.weight"`).

    Args:
        *modules: the modules, in forward order (or one `OrderedDict` of named modules).

    Examples:
        >>> from dismantle import Linear, Sequential
        >>> net = Sequential(Linear(3, 4), Linear(4, 2))
        >>> len(net.parameters()), [name for name, _ in net.named_parameters()][:2]
        (4, ['0.weight', '0.bias'])
    """

    def __init__(self, *modules):
        super().__init__()
        named = modules[0].items() if len(modules) == 1 and isinstance(modules[0], OrderedDict) else enumerate(modules)
        for name, m in named:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: expected Module instances, got {type(m).__name__}")
            setattr(self, str(name), m)

    def __getitem__(self, i):
        items = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[i][1]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        """Run every module in order; returns the last output."""
        for m in self._modules.values():
            x = m(x)
        self.save_for_backward(x.shape)
        return x

    def backward(self, grad_output, *, input_grad=True):
        """Run every module's `backward` in reverse order; returns $\\partial L/\\partial x$.

        With `input_grad=False` nothing needs the gradient of the input (the data): the first
        module is told so (it may skip computing it), and `None` is returned.
        """
        (shape,) = self.saved(peek=True)
        grad_output = as_float_array(grad_output, "Sequential.backward grad_output")
        check_shape(grad_output, shape, "Sequential.backward grad_output")
        self.saved()
        modules = list(self._modules.values())
        if not modules:
            return grad_output if input_grad else None
        for m in reversed(modules[1:]):
            grad_output = m.backward(grad_output)
        return modules[0].backward(grad_output, input_grad=input_grad)

    def __repr__(self):
        inner = ",\n  ".join(repr(m) for m in self._modules.values())
        return f"Sequential(\n  {inner}\n)"
