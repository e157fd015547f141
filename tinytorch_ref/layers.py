"""Answer key for the Layers assignment: the matmul and Dense that student outputs are graded against."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from .tensor import Tensor

_T = TypeVar("_T", bound=Tensor)


def matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Multiply two 2-D arrays with the same naive loop, order and rounding the assignment asks for.

    The loop is kept (rather than ``A @ B``) so the answer key rounds exactly like a correct student
    submission: each ``A[i, k] * B[k, j]`` is computed in the inputs' dtype (float32 products stay
    float32) and accumulated, in order, into a float64 ``np.zeros`` result. The parameter names match
    the student-facing signature so the grader can call either implementation the same way.
    """
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"matmul expects 2-D arrays, got A with {A.ndim} and B with {B.ndim} dimensions")
    m, n = A.shape
    n2, p = B.shape
    if n != n2:
        raise ValueError(f"Incompatible matrix dimensions: A is {m}x{n}, B is {n2}x{p}")
    out = np.zeros((m, p))
    for i in range(m):
        for j in range(p):
            for k in range(n):
                out[i, j] += A[i, k] * B[k, j]
    return out


def xavier_scale(input_size: int, output_size: int) -> float:
    """Return the assignment's Xavier/Glorot scale, ``sqrt(2 / (fan_in + fan_out))``.

    Raises instead of returning inf or nan, because an empty layer has no meaningful scale.
    """
    fan_total = input_size + output_size
    if fan_total <= 0:
        raise ValueError(f"input_size + output_size must be positive, got {input_size} + {output_size}")
    return float(np.sqrt(2.0 / fan_total))


def dense_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Compute ``x @ weights + bias`` from given parameters, independent of any initialisation.

    This lets the grader check a forward pass without depending on how a student drew their weights.
    Returns the raw float64 result; ``Dense.forward`` narrows it to float32 by wrapping it in a
    Tensor, exactly as a student's ``type(x)(result)`` does.
    """
    out = matmul(x, weights)
    if bias is not None:
        out = out + bias
    return out


class Dense:
    """Fully connected layer ``y = xW + b`` built the way the assignment specifies."""

    def __init__(self, input_size: int, output_size: int, use_bias: bool = True) -> None:
        """Draw weights with one ``np.random.randn`` call on the global NumPy RNG.

        Using the global RNG, once, with the same shape is what lets the grader seed NumPy and get
        bit-identical weights from this class and from a correct student submission.
        """
        self.input_size = input_size
        self.output_size = output_size
        self.use_bias = use_bias
        scale = xavier_scale(input_size, output_size)
        self.weights = Tensor(np.random.randn(input_size, output_size) * scale)
        self.bias: Tensor | None = Tensor(np.zeros(output_size)) if use_bias else None

    def forward(self, x: _T) -> _T:
        """Return ``type(x)`` so subclasses of Tensor pass through a layer unchanged."""
        bias = self.bias.data if self.use_bias and self.bias is not None else None
        return type(x)(dense_forward(x.data, self.weights.data, bias))

    def __call__(self, x: _T) -> _T:
        """Match the ``layer(x)`` calling style the course uses everywhere."""
        return self.forward(x)
