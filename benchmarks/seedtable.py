"""The benchmarks' seed tables (cnn_digits.py, recall.py): one line per setting."""

import numpy as np


def summary(name, rows):
    """``name``, its parameter count, each score's mean ± sample standard deviation over ``rows``
    (one per seed), and the mean training time per run (and its CPU seconds, where rows record them)."""
    line = f"{name:36s} {rows[0]['params']:6d}"
    for key in ("val_loss", "val", "test"):
        if key in rows[0]:
            v = np.array([r[key] for r in rows])
            fmt = ".4f" if key == "val_loss" else ".2%"
            line += f"  {key} {v.mean():{fmt}} ± {v.std(ddof=1):{fmt}}"
    line += f"  {np.mean([r['seconds'] for r in rows]):.1f} s per run"
    if "cpu_seconds" in rows[0]:
        line += f" ({np.mean([r['cpu_seconds'] for r in rows]):.1f} s of CPU)"
    return line
