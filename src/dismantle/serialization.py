r"""`save` and `load`: a model's and an optimizer's state in one `.npz` file, with no pickle.

`torch.save` pickles, and unpickling a file from a stranger can run any code. Here the arrays go
into a NumPy `.npz` archive and everything else (the nesting of dicts, int or str keys, lists,
tuples, numbers, strings, `None`) into one JSON entry, `__dismantle__`, which also marks the
file as ours. `load` reads it with `np.load(allow_pickle=False)`, so a file that is not ours is
refused with a clear error and a file with pickled objects cannot run anything.
"""

import json
import zipfile
from numbers import Integral, Real

import numpy as np

MARKER = "__dismantle__"
FORMAT = "dismantle.save/1"


def save(obj, path):
    """Write `obj` (nested dicts, lists, tuples of arrays, numbers, strings, `None`) to `path`, a `.npz` file.

    Everything is checked before the file is opened: an object that cannot be stored (say, a
    `Parameter` instead of its state dict) raises a TypeError naming where it sits, and no file
    is written.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import dismantle as dm
        >>> model = dm.Linear(3, 2, rng=0)
        >>> opt = dm.SGD(model.parameters(), lr=0.01, momentum=0.9)
        >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
        >>> dm.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
        >>> with np.load(path, allow_pickle=False) as archive:  # a plain .npz: no pickle anywhere
        ...     print(sorted(archive.files))
        ['__dismantle__', 'a0', 'a1']
    """
    arrays = {}
    tree = _encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "tree": tree})
    with open(path, "wb") as f:  # a file object: NumPy adds no ".npz" of its own
        np.savez(f, **{MARKER: np.array(header)}, **arrays)


def load(path):
    """Read what `save` wrote; a file that is not ours raises a ValueError naming it."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is not a file written by dismantle.save (not an .npz archive: {error})") \
            from None
    with archive:
        if not isinstance(archive, np.lib.npyio.NpzFile) or MARKER not in archive.files:
            raise ValueError(f"load: {path} is not a file written by dismantle.save (no {MARKER!r} entry)")
        try:
            header = json.loads(str(archive[MARKER]))
            arrays = {name: archive[name] for name in archive.files if name != MARKER}
        except ValueError as error:  # pickled objects refused by allow_pickle=False, or a broken header
            raise ValueError(f"load: {path} is not a file written by dismantle.save ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"load: {path} is not a file written by dismantle.save (format "
                         f"{header.get('format') if isinstance(header, dict) else None!r}, expected {FORMAT!r})")
    return _decode(header["tree"], arrays, path)


def _encode(obj, arrays, where):
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufU":
            raise TypeError(f"save: {where} is an array of dtype {obj.dtype}; only numbers and strings are stored")
        name = f"a{len(arrays)}"
        arrays[name] = obj
        return {"array": name}
    if obj is None or isinstance(obj, (bool, str)):
        return {"value": obj}
    if isinstance(obj, (Integral, Real)) and not isinstance(obj, complex):
        return {"value": int(obj) if isinstance(obj, Integral) else float(obj)}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, dict):
        pairs = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, Integral)):
                raise TypeError(f"save: {where} has a key {key!r}; only str and int keys are stored")
            pairs.append([["s", key] if isinstance(key, str) else ["i", int(key)],
                          _encode(value, arrays, f"{where}[{key!r}]")])
        return {"dict": pairs}
    raise TypeError(f"save: {where} is a {type(obj).__name__}, which save cannot store (no pickle); store "
                    "arrays, numbers, strings, None, and lists, tuples and dicts of them (a state_dict())")


def _decode(node, arrays, path):
    kind = next(iter(node)) if isinstance(node, dict) and len(node) == 1 else None
    if kind == "array" and node["array"] in arrays:
        return arrays[node["array"]]
    if kind == "value":
        return node["value"]
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, path) for v in node[kind]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {(key if tag == "s" else int(key)): _decode(v, arrays, path) for (tag, key), v in node["dict"]}
    raise ValueError(f"load: {path} is not a file written by dismantle.save (a broken entry: {node!r:.80})")
