"""The Tensor a layers student imports: float32 data, a settable `.data`, and the operations module 01 teaches.

Staged read-only into the sandbox. It is the grader's own implementation of the interface students' layer code
calls (constructor with `requires_grad`, `.data`, `.shape`, elementwise arithmetic, `matmul` and `@`,
`transpose` and `.T`, reshapes and reductions); it holds no answer of the layers module.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _as_float32(data: Any) -> np.ndarray:
    """Every tensor holds float32, as the course's tensor does; a Tensor passed in gives up its array."""
    if isinstance(data, Tensor):
        data = data.data
    return np.array(data, dtype=np.float32)


def _operand(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


class Tensor:
    """An n-dimensional float32 array with the attributes later modules (autograd) rely on.

    `requires_grad` and `grad` are carried but not used yet: autograd is a later module. Results of operations
    require gradients when any operand does, so a parameter's flag survives a forward pass.
    """

    # NumPy defers to the reflected operators, so `array + tensor` is a Tensor, not an object array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self._data = _as_float32(data)
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None

    @property
    def data(self) -> np.ndarray:
        """The backing array itself: layers compute on it directly."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        """Tests and optimisers replace a parameter's values in place of building a new Tensor."""
        self._data = _as_float32(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def size(self) -> int:
        return int(self._data.size)

    @property
    def ndim(self) -> int:
        return int(self._data.ndim)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._data.dtype

    @property
    def T(self) -> Tensor:
        """The last two axes swapped, as `transpose()` with no arguments."""
        return self.transpose()

    def numpy(self) -> np.ndarray:
        return self._data

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self._data.tolist()}, shape={self.shape}{flag})"

    def __len__(self) -> int:
        return len(self._data)

    def _result(self, data: Any, *others: Any) -> Tensor:
        needs = self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
        return Tensor(data, requires_grad=needs)

    def __add__(self, other: Any) -> Tensor:
        return self._result(self._data + _operand(other), other)

    def __radd__(self, other: Any) -> Tensor:
        return self._result(_operand(other) + self._data, other)

    def __sub__(self, other: Any) -> Tensor:
        return self._result(self._data - _operand(other), other)

    def __rsub__(self, other: Any) -> Tensor:
        return self._result(_operand(other) - self._data, other)

    def __mul__(self, other: Any) -> Tensor:
        return self._result(self._data * _operand(other), other)

    def __rmul__(self, other: Any) -> Tensor:
        return self._result(_operand(other) * self._data, other)

    def __truediv__(self, other: Any) -> Tensor:
        return self._result(self._data / _operand(other), other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._result(_operand(other) / self._data, other)

    def __neg__(self) -> Tensor:
        return self._result(-self._data)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product; mismatched inner dimensions raise ValueError naming both shapes."""
        right = np.asarray(_operand(other))
        if self._data.ndim >= 1 and right.ndim >= 1:
            inner_right = right.shape[-2] if right.ndim >= 2 else right.shape[0]
            if self._data.shape[-1] != inner_right:
                raise ValueError(f"matmul: shapes {self.shape} and {tuple(right.shape)} do not line up "
                                 f"({self._data.shape[-1]} != {inner_right})")
        return self._result(np.matmul(self._data, right), other)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return Tensor(np.asarray(other)).matmul(self)

    def __getitem__(self, key: Any) -> Tensor:
        return self._result(self._data[key])

    def reshape(self, *shape: Any) -> Tensor:
        """`reshape(2, 3)` or `reshape((2, 3))`, with at most one -1."""
        wanted = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return self._result(self._data.reshape(wanted))

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Swap two axes; with none given, the last two (a 0-D or 1-D tensor comes back as a copy)."""
        if (dim0 is None) != (dim1 is None):
            raise ValueError("transpose takes both dim0 and dim1, or neither")
        if self._data.ndim < 2 and dim0 is None:
            return self._result(self._data.copy())
        axes = list(range(self._data.ndim))
        first, second = (-2, -1) if dim0 is None or dim1 is None else (dim0, dim1)
        axes[first], axes[second] = axes[second], axes[first]
        return self._result(np.transpose(self._data, axes))

    def sum(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return self._result(np.sum(self._data, axis=axis, keepdims=keepdims))

    def mean(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return self._result(np.mean(self._data, axis=axis, keepdims=keepdims))

    def max(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return self._result(np.max(self._data, axis=axis, keepdims=keepdims))

    def backward(self) -> None:
        """Gradients arrive with the autograd module; until then there is nothing to compute."""
