"""Our from-scratch reference TinyTorch: sandbox Tensor and activations, plus the Layers answer key."""

from .activations import ReLU, Sigmoid, Softmax, Tanh
from .layers import Dense, dense_forward, matmul, xavier_scale
from .tensor import Tensor

__all__ = [
    "Dense",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Tensor",
    "dense_forward",
    "matmul",
    "xavier_scale",
]
