"""Tests for the Layers answer key, including the seed notebook's own test bodies run against it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tinytorch_ref.activations import ReLU, Sigmoid, Softmax, Tanh
from tinytorch_ref.layers import Dense, dense_forward, matmul, xavier_scale
from tinytorch_ref.tensor import Tensor

SEED_INPUT = [[1, -2, 3, -4], [2, 1, -1, 3]]


class TaggedTensor(Tensor):
    """A subclass, to check that Dense returns ``type(x)``."""


@pytest.fixture(autouse=True)
def restore_global_rng() -> Iterator[None]:
    """Dense draws from NumPy's global RNG, so seeding in one test must not leak into others."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def test_matmul_seed_examples() -> None:
    a = np.array([[1, 2], [3, 4]], dtype=np.float32)
    b = np.array([[5, 6], [7, 8]], dtype=np.float32)
    np.testing.assert_array_equal(matmul(a, b), [[19, 22], [43, 50]])
    np.testing.assert_array_equal(
        matmul(np.array([[1, 2, 3]], dtype=np.float32), np.array([[4], [5], [6]], dtype=np.float32)),
        [[32]],
    )


def test_matmul_matches_numpy_on_random_shapes() -> None:
    rng = np.random.default_rng(7)
    for m, n, p in [(1, 1, 1), (2, 5, 3), (4, 3, 6), (7, 1, 2)]:
        a = rng.standard_normal((m, n))
        b = rng.standard_normal((n, p))
        np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)


def test_matmul_returns_float64_even_for_integer_input() -> None:
    out = matmul(np.array([[1, 2]]), np.array([[3], [4]]))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[11.0]])


def test_matmul_rounds_float32_products_like_the_student_loop() -> None:
    # (1 + 2**-12)**2 = 1 + 2**-11 + 2**-24 exactly, but the float32 product rounds away the 2**-24
    # before it is added to the float64 accumulator, just as in a correct submission's loop.
    x = np.array([[1 + 2**-12]], dtype=np.float32)
    out = matmul(x, x)
    assert out[0, 0] == 1 + 2**-11
    assert out[0, 0] != (1 + 2**-12) ** 2


def test_matmul_handles_empty_dimensions() -> None:
    assert matmul(np.zeros((0, 3)), np.zeros((3, 2))).shape == (0, 2)
    np.testing.assert_array_equal(matmul(np.zeros((2, 0)), np.zeros((0, 3))), np.zeros((2, 3)))


def test_matmul_incompatible_shapes_message() -> None:
    with pytest.raises(ValueError) as excinfo:
        matmul(np.ones((1, 2)), np.ones((3, 1)))
    assert str(excinfo.value) == "Incompatible matrix dimensions: A is 1x2, B is 3x1"


def test_matmul_rejects_non_matrices() -> None:
    with pytest.raises(ValueError, match="2-D"):
        matmul(np.ones(3), np.ones((3, 1)))


def test_xavier_scale() -> None:
    assert xavier_scale(3, 2) == pytest.approx(np.sqrt(0.4))
    assert isinstance(xavier_scale(4, 3), float)
    with pytest.raises(ValueError):
        xavier_scale(0, 0)


def test_dense_forward_with_given_parameters() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(dense_forward(x, w, b), x @ w + b)
    np.testing.assert_allclose(dense_forward(x, w, None), x @ w)


def test_dense_initialisation() -> None:
    layer = Dense(4, 3)
    assert (layer.input_size, layer.output_size, layer.use_bias) == (4, 3, True)
    assert isinstance(layer.weights, Tensor)
    assert layer.weights.shape == (4, 3)
    assert layer.weights.dtype == np.float32
    assert layer.bias is not None
    assert layer.bias.shape == (3,)
    assert layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, np.zeros(3))
    assert Dense(4, 3, use_bias=False).bias is None


def test_dense_weights_are_reproducible_from_the_global_seed() -> None:
    np.random.seed(1234)
    layer = Dense(5, 2)
    np.random.seed(1234)
    expected = (np.random.randn(5, 2) * np.sqrt(2.0 / 7)).astype(np.float32)
    np.testing.assert_array_equal(layer.weights.data, expected)


def test_dense_weight_scale_is_xavier() -> None:
    np.random.seed(0)
    weights = Dense(300, 200).weights.data
    assert np.std(weights) == pytest.approx(xavier_scale(300, 200), rel=0.02)


def test_dense_forward_matches_dense_forward_and_narrows_to_float32() -> None:
    layer = Dense(3, 2)
    x = Tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    out = layer(x)
    assert out.dtype == np.float32
    assert out.shape == (2, 2)
    expected = dense_forward(x.data, layer.weights.data, layer.bias.data if layer.bias else None)
    np.testing.assert_array_equal(out.data, expected.astype(np.float32))
    np.testing.assert_array_equal(layer.forward(x).data, out.data)


def test_dense_uses_the_bias() -> None:
    layer = Dense(2, 2)
    assert layer.bias is not None
    layer.bias.data[:] = [10.0, -10.0]
    out = layer(Tensor([[0.0, 0.0]]))
    np.testing.assert_array_equal(out.data, [[10.0, -10.0]])


def test_dense_returns_type_of_input() -> None:
    assert type(Dense(2, 1)(TaggedTensor([[1.0, 2.0]]))) is TaggedTensor


def test_seed_unit_matrix_multiplication_passes() -> None:
    a3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=np.float32)
    assert np.allclose(matmul(a3, np.eye(3, dtype=np.float32)), a3)
    a = np.array([[1, 2], [3, 4]], dtype=np.float32)
    b = np.array([[5, 6], [7, 8]], dtype=np.float32)
    assert np.allclose(matmul(a, b), a @ b)
    try:
        matmul(np.array([[1, 2]], dtype=np.float32), np.array([[3], [4], [5]], dtype=np.float32))
        raise AssertionError("Should raise error for incompatible shapes")
    except ValueError as e:
        assert "Incompatible matrix dimensions" in str(e)


@pytest.mark.parametrize("seed", range(20))
def test_seed_unit_dense_layer_passes(seed: int) -> None:
    np.random.seed(seed)
    layer = Dense(input_size=3, output_size=2)
    assert layer.weights.shape == (3, 2)
    assert layer.bias is not None
    assert layer.bias.shape == (2,)
    input_data = Tensor([[1, 2, 3]])
    assert layer(input_data).shape == (1, 2)
    assert layer(Tensor([[1, 2, 3], [4, 5, 6]])).shape == (2, 2)
    no_bias_layer = Dense(input_size=3, output_size=2, use_bias=False)
    assert no_bias_layer.bias is None
    assert no_bias_layer(input_data).shape == (1, 2)
    output1 = layer(Tensor([[1, 0, 0]]))
    output2 = layer(Tensor([[0, 1, 0]]))
    assert not np.allclose(output1.data, output2.data)


def test_seed_layer_tensor_integration_passes() -> None:
    class DoubleLayer(Dense):
        def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
            return x * 2

    output_tensor = DoubleLayer(input_size=1, output_size=1)(Tensor([1, 2, 3]))
    assert isinstance(output_tensor, Tensor)
    assert np.array_equal(output_tensor.data, np.array([2, 4, 6]))


def seed_layer_activation_checks() -> list[str]:
    """Run the seed's test_unit_layer_activation assertions and name the ones that fail."""
    failures = []
    layer = Dense(input_size=4, output_size=3)
    relu, sigmoid, tanh, softmax = ReLU(), Sigmoid(), Tanh(), Softmax()
    input_data = Tensor(SEED_INPUT)
    linear_output = layer(input_data)
    if not np.all(relu(linear_output).data >= 0):
        failures.append("relu")
    if not all(abs(np.sum(row) - 1.0) < 1e-6 for row in softmax(linear_output).data):
        failures.append("softmax")
    sig = sigmoid(linear_output).data
    if not (np.all(sig > 0) and np.all(sig < 1)):
        failures.append("sigmoid")
    th = tanh(linear_output).data
    if not (np.all(th > -1) and np.all(th < 1)):
        failures.append("tanh")
    layer1 = Dense(input_size=4, output_size=5)
    layer2 = Dense(input_size=5, output_size=3)
    output = softmax(layer2(relu(layer1(input_data))))
    if output.shape != (2, 3) or not all(abs(np.sum(row) - 1.0) < 1e-6 for row in output.data):
        failures.append("network")
    return failures


def test_seed_layer_activation_passes_for_an_ordinary_seed() -> None:
    np.random.seed(0)
    assert seed_layer_activation_checks() == []


def test_seed_layer_activation_flakes_when_float32_tanh_saturates() -> None:
    # Seed 125 draws a logit of about -10.7; float32 tanh of that is exactly -1.0, so the seed's
    # strict ``tanh > -1`` assertion fails on a correct implementation. This pins the known flake.
    np.random.seed(125)
    logits = Dense(4, 3)(Tensor(SEED_INPUT)).data
    assert np.min(logits) < -10.5
    np.random.seed(125)
    assert seed_layer_activation_checks() == ["tanh"]
