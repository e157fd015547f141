"""What a correct Linear and Dropout compute, in plain NumPy, for judging the values a submission returned.

The contract is upstream TinyTorch's: `Linear(in_features, out_features, bias=True)` keeps `weight` as an
(in_features, out_features) Tensor drawn from randn * sqrt(1 / in_features), `bias` as zeros of
(out_features,) or None, and computes y = x @ weight + bias. `Dropout(p)` zeroes each entry with
probability p in training and scales the survivors by 1 / (1 - p) (inverted dropout); in evaluation it is
the identity. Inputs travel as float32, so the forward pass is computed in float32 too.
"""

import numpy as np


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """y = x @ weight + bias, in float32 like the package's Tensor."""
    out = np.matmul(x.astype(np.float32), weight.astype(np.float32))
    if bias is not None:
        out = out + bias.astype(np.float32)
    return out.astype(np.float32)


def init_scale(in_features: int) -> float:
    """The standard deviation of a fresh weight: sqrt(1 / in_features)."""
    if in_features <= 0:
        raise ValueError(f"in_features must be positive, got {in_features}")
    return float(np.sqrt(1.0 / in_features))


def weight_shape(in_features: int, out_features: int) -> tuple[int, int]:
    """The weight layout of the contract: rows are inputs, columns are outputs."""
    return (in_features, out_features)


def dropout_scale(p: float) -> float:
    """The factor a surviving entry is multiplied by in training (p < 1)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be in [0, 1) for a scale, got {p}")
    return 1.0 / (1.0 - p)


def valid_dropout_p(p: float) -> bool:
    """Dropout accepts probabilities in [0, 1] and refuses anything else."""
    return 0.0 <= p <= 1.0


def dropout_eval(x: np.ndarray) -> np.ndarray:
    """Evaluation mode and p = 0 leave the input as it is."""
    return x.astype(np.float32)


def dropout_all(x: np.ndarray) -> np.ndarray:
    """p = 1 drops every entry."""
    return np.zeros_like(x, dtype=np.float32)
