"""Reference Tensor, copied verbatim into the grading sandbox as ``tinytorch/core/tensor.py``."""

from __future__ import annotations

from typing import Any, Self, TypeAlias

import numpy as np
import numpy.typing as npt

# Scalars and arrays are accepted next to Tensors so that ``t * 2`` and ``t + bias_array`` work
# the way students expect from NumPy.
Operand: TypeAlias = "Tensor | npt.ArrayLike"


class Tensor:
    """An n-dimensional array that follows TinyTorch's dtype conventions.

    dtype rule, applied whenever ``dtype`` is not given (including to the results of arithmetic and
    activations, which are rebuilt through ``type(x)(array)``): float64 is narrowed to float32, and
    every other dtype is kept exactly as NumPy infers it. So Python floats, lists of floats and
    float64 arrays become float32 (the course's numerics, including its analysis of flaky tests,
    assume float32 data), while Python ints and integer lists become NumPy's default integer,
    int64. We chose int64 over TinyTorch's occasional int32 because TinyTorch itself only forces
    int32 for bare Python int scalars, and one rule for every integer input is easier to reason
    about than a special case that can overflow. An explicit ``dtype`` is always honoured, but only
    at construction: derived Tensors go back through the default rule, as in TinyTorch.

    ``__eq__`` is deliberately left as identity. An elementwise ``==`` would return a Tensor whose
    truth value is ambiguous, which breaks ``assert a == b``, ``in`` and dict keys in surprising
    ways; compare ``.data`` with NumPy instead.
    """

    # Makes NumPy defer to our reflected operators, so ``ndarray + Tensor`` yields a Tensor instead of
    # an object array of Tensors.
    __array_ufunc__ = None

    def __init__(self, data: Any, dtype: npt.DTypeLike | None = None) -> None:
        """Copy the input so a Tensor never aliases a caller's array and cannot change under it."""
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None:
            self._data = np.array(data, dtype=dtype)
            return
        array = np.array(data)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        self._data = array

    @property
    def data(self) -> np.ndarray:
        """Expose the backing array itself, because layers compute on raw NumPy for speed."""
        return self._data

    @property
    def shape(self) -> tuple[int, ...]:
        """Mirror NumPy so shape assertions read the same on Tensors and arrays."""
        return tuple(self._data.shape)

    @property
    def size(self) -> int:
        """Mirror NumPy so element counts read the same on Tensors and arrays."""
        return int(self._data.size)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Expose a real ``np.dtype`` so ``t.dtype == np.float32`` comparisons work."""
        return self._data.dtype

    def __repr__(self) -> str:
        """Show values, shape and dtype together, since dtype surprises are the usual bug."""
        return f"Tensor({self._data.tolist()}, shape={self.shape}, dtype={self.dtype})"

    def _wrap(self, result: Any) -> Self:
        """Build results with ``type(self)`` so subclasses survive arithmetic."""
        return type(self)(result)

    def __add__(self, other: Operand) -> Self:
        """Add elementwise with NumPy broadcasting."""
        return self._wrap(self._data + _unwrap(other))

    def __radd__(self, other: Operand) -> Self:
        """Support ``scalar + tensor``."""
        return self._wrap(_unwrap(other) + self._data)

    def __sub__(self, other: Operand) -> Self:
        """Subtract elementwise with NumPy broadcasting."""
        return self._wrap(self._data - _unwrap(other))

    def __rsub__(self, other: Operand) -> Self:
        """Support ``scalar - tensor``."""
        return self._wrap(_unwrap(other) - self._data)

    def __mul__(self, other: Operand) -> Self:
        """Multiply elementwise (not a matrix product) with NumPy broadcasting."""
        return self._wrap(self._data * _unwrap(other))

    def __rmul__(self, other: Operand) -> Self:
        """Support ``scalar * tensor``."""
        return self._wrap(_unwrap(other) * self._data)

    def __truediv__(self, other: Operand) -> Self:
        """Divide elementwise; integer operands give floats, narrowed to float32 by the dtype rule."""
        return self._wrap(self._data / _unwrap(other))

    def __rtruediv__(self, other: Operand) -> Self:
        """Support ``scalar / tensor``."""
        return self._wrap(_unwrap(other) / self._data)

    def __matmul__(self, other: Operand) -> Self:
        """Use NumPy's matrix product; the naive loop is what students write, not what Tensor needs."""
        return self._wrap(self._data @ _unwrap(other))

    def __rmatmul__(self, other: Operand) -> Self:
        """Support ``array @ tensor``."""
        return self._wrap(_unwrap(other) @ self._data)

    def __neg__(self) -> Self:
        """Negate elementwise, so ``-t`` works like ``0 - t``."""
        return self._wrap(-self._data)


def _unwrap(value: Operand) -> Any:
    """Reduce an operand to something NumPy can broadcast, so operators need no type switch."""
    if isinstance(value, Tensor):
        return value.data
    return value
