"""The activations a layers student imports (module 02): elementwise maps over Tensors, callable like layers.

Staged read-only into the sandbox beside tensor.py. `backward` is a placeholder until the autograd module.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor


class _Activation:
    """`act(x)` and `act.forward(x)` are the same call."""

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def backward(self, grad: Tensor) -> None:
        """Gradients arrive with the autograd module."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    def forward(self, x: Tensor) -> Tensor:
        return Tensor(np.maximum(x.data, 0), requires_grad=x.requires_grad)


class Sigmoid(_Activation):
    def forward(self, x: Tensor) -> Tensor:
        """Exponentiates only -|x|, so no input overflows."""
        e = np.exp(-np.abs(x.data))
        return Tensor(np.where(x.data >= 0, 1 / (1 + e), e / (1 + e)), requires_grad=x.requires_grad)


class Tanh(_Activation):
    def forward(self, x: Tensor) -> Tensor:
        return Tensor(np.tanh(x.data), requires_grad=x.requires_grad)


class GELU(_Activation):
    def forward(self, x: Tensor) -> Tensor:
        """The sigmoid approximation x * sigmoid(1.702 x) the course uses."""
        gate = Sigmoid().forward(Tensor(1.702 * x.data))
        return Tensor(x.data * gate.data, requires_grad=x.requires_grad)


class Softmax(_Activation):
    def forward(self, x: Tensor, dim: int = -1) -> Tensor:  # type: ignore[override]
        """Shifted by the maximum along `dim`, so exp never overflows."""
        e = np.exp(x.data - np.max(x.data, axis=dim, keepdims=True))
        return Tensor(e / np.sum(e, axis=dim, keepdims=True), requires_grad=x.requires_grad)

    def __call__(self, x: Tensor, dim: int = -1) -> Tensor:  # type: ignore[override]
        return self.forward(x, dim)
