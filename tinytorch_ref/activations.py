"""Reference activations, copied verbatim into the grading sandbox as ``tinytorch/core/activations.py``."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

from .tensor import Tensor

_T = TypeVar("_T", bound=Tensor)


def _floating(data: np.ndarray) -> np.ndarray:
    """Give exp and tanh a float array while leaving float32 input in float32.

    Integer input is computed in float64 and narrowed to float32 afterwards by Tensor's dtype rule,
    so students who feed integer Tensors still get float32 results like everyone else.
    """
    if np.issubdtype(data.dtype, np.floating):
        return data
    return data.astype(np.float64)


class _Activation:
    """Shared callable protocol, so every activation can be used as ``act(x)`` or ``act.forward(x)``."""

    def forward(self, x: _T) -> _T:
        """Subclasses define the elementwise maths; the base class only wires up the call."""
        raise NotImplementedError

    def __call__(self, x: _T) -> _T:
        """Match the ``layer(x)`` calling style the course uses everywhere."""
        return self.forward(x)


class ReLU(_Activation):
    """Rectified linear unit, ``max(x, 0)``."""

    def forward(self, x: _T) -> _T:
        """Keep the input dtype, integers included, because clamping needs no floating point."""
        return type(x)(np.maximum(x.data, 0))


class Sigmoid(_Activation):
    """Logistic function ``1 / (1 + exp(-x))``."""

    def forward(self, x: _T) -> _T:
        """Only ever exponentiate ``-|x|`` so large inputs of either sign cannot overflow.

        For x >= 0 the textbook form is used; for x < 0 the algebraically equal ``e^x / (1 + e^x)``
        is used, and both are written in terms of ``exp(-|x|) <= 1``. Outputs still round to exactly
        0.0 or 1.0 in float32 once ``|x|`` is large (about 17 for 1.0), which is correct float32
        behaviour rather than a bug.
        """
        z = _floating(x.data)
        e = np.exp(-np.abs(z))
        return type(x)(np.where(z >= 0, 1 / (1 + e), e / (1 + e)))


class Tanh(_Activation):
    """Hyperbolic tangent."""

    def forward(self, x: _T) -> _T:
        """Defer to ``np.tanh``, which never overflows.

        Float32 input is kept in float32, as TinyTorch does, so outputs round to exactly +-1 once
        ``|x|`` passes roughly 9 to 10 (the exact cut-off depends on NumPy's SIMD tanh kernel).
        """
        return type(x)(np.tanh(_floating(x.data)))


class Softmax(_Activation):
    """Softmax over the last axis, so each row of a ``(batch, classes)`` Tensor sums to 1."""

    def forward(self, x: _T) -> _T:
        """Subtract each row's maximum first; softmax is shift-invariant and ``exp`` then stays <= 1."""
        z = _floating(x.data)
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
        return type(x)(e / np.sum(e, axis=-1, keepdims=True))
