"""Tests for the reference Tensor's dtype rules, copying, arithmetic and identity semantics."""

from __future__ import annotations

import numpy as np
import pytest

from tinytorch_ref.tensor import Tensor


class TaggedTensor(Tensor):
    """A subclass, to check that results keep the caller's Tensor type."""


@pytest.mark.parametrize(
    "data",
    [5.0, [1.0, 2.0, 3.0], [[1.5], [2.5]], np.array([0.1, 0.2]), [1, 2.5], np.float64(3.0)],
)
def test_float_input_is_stored_as_float32(data: object) -> None:
    assert Tensor(data).dtype == np.float32


@pytest.mark.parametrize("data", [7, [1, 2, 3], [[1, -2], [3, 4]], np.array([1, 2], dtype=np.int64)])
def test_integer_input_is_stored_as_int64(data: object) -> None:
    assert Tensor(data).dtype == np.int64


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.float16, np.float32, np.bool_])
def test_non_float64_array_keeps_its_dtype(dtype: type) -> None:
    assert Tensor(np.zeros(3, dtype=dtype)).dtype == dtype


def test_explicit_dtype_is_honoured_including_float64() -> None:
    assert Tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert Tensor([1.7, 2.2], dtype="int32").data.tolist() == [1, 2]
    assert Tensor(np.array([1, 2]), dtype=np.float32).dtype == np.float32


def test_float32_narrowing_rounds_to_nearest_float32() -> None:
    assert Tensor(0.1).data.item() == float(np.float32(0.1))
    assert Tensor(0.1).data.item() != 0.1


def test_shape_size_and_data() -> None:
    scalar = Tensor(5.0)
    assert scalar.shape == ()
    assert scalar.size == 1
    assert scalar.data.item() == 5.0

    matrix = Tensor([[1, 2, 3], [4, 5, 6]])
    assert matrix.shape == (2, 3)
    assert matrix.size == 6
    assert isinstance(matrix.data, np.ndarray)
    np.testing.assert_array_equal(matrix.data, [[1, 2, 3], [4, 5, 6]])


def test_input_array_is_copied_not_aliased() -> None:
    for source in (np.array([1.0, 2.0], dtype=np.float32), np.array([1, 2])):
        t = Tensor(source)
        source[0] = 99
        assert t.data[0] == 1


def test_tensor_from_tensor_copies_and_reapplies_dtype() -> None:
    original = Tensor([1.0, 2.0], dtype=np.float64)
    copy = Tensor(original)
    assert copy.dtype == np.float32
    copy.data[0] = 42.0
    assert original.data[0] == 1.0


def test_repr_shows_values_shape_and_dtype() -> None:
    assert repr(Tensor([1, 2, 3])) == "Tensor([1, 2, 3], shape=(3,), dtype=int64)"
    assert repr(Tensor([[0.5]])) == "Tensor([[0.5]], shape=(1, 1), dtype=float32)"


def test_arithmetic_between_tensors() -> None:
    a = Tensor([1, 2, 3])
    b = Tensor([4, 5, 6])
    np.testing.assert_array_equal((a + b).data, [5, 7, 9])
    np.testing.assert_array_equal((b - a).data, [3, 3, 3])
    np.testing.assert_array_equal((a * b).data, [4, 10, 18])
    np.testing.assert_allclose((b / a).data, [4.0, 2.5, 2.0])


def test_arithmetic_with_scalars_on_either_side() -> None:
    a = Tensor([1, 2, 3])
    np.testing.assert_array_equal((a + 10).data, [11, 12, 13])
    np.testing.assert_array_equal((10 + a).data, [11, 12, 13])
    np.testing.assert_array_equal((a - 1).data, [0, 1, 2])
    np.testing.assert_array_equal((1 - a).data, [0, -1, -2])
    np.testing.assert_array_equal((a * 2).data, [2, 4, 6])
    np.testing.assert_array_equal((2 * a).data, [2, 4, 6])
    np.testing.assert_allclose((a / 2).data, [0.5, 1.0, 1.5])
    np.testing.assert_allclose((6 / a).data, [6.0, 3.0, 2.0])
    np.testing.assert_array_equal((-a).data, [-1, -2, -3])


def test_arithmetic_results_are_tensors_with_dtype_rule_applied() -> None:
    ints = Tensor([1, 2, 3])
    floats = Tensor([1.0, 2.0])
    assert isinstance(ints + 1, Tensor)
    assert (ints * 2).dtype == np.int64
    assert (ints / 2).dtype == np.float32
    assert (floats * 2.5).dtype == np.float32
    assert (floats + np.float64(1.0)).dtype == np.float32
    assert (Tensor([1.0], dtype=np.float64) + 1.0).dtype == np.float32


def test_broadcasting_follows_numpy() -> None:
    column = Tensor([[1], [2], [3]])
    row = Tensor([10, 20])
    np.testing.assert_array_equal((column + row).data, [[11, 21], [12, 22], [13, 23]])
    np.testing.assert_array_equal((Tensor([[1, 2], [3, 4]]) + Tensor(10)).data, [[11, 12], [13, 14]])


def test_ndarray_operands_give_tensors_on_either_side() -> None:
    t = Tensor([1.0, 2.0])
    array = np.array([10.0, 20.0])
    for result in (t + array, array + t, array * t, np.float32(2.0) * t):
        assert isinstance(result, Tensor)
    np.testing.assert_allclose((array - t).data, [9.0, 18.0])


def test_matmul_operator() -> None:
    a = Tensor([[1, 2], [3, 4]])
    b = Tensor([[5, 6], [7, 8]])
    np.testing.assert_array_equal((a @ b).data, [[19, 22], [43, 50]])
    np.testing.assert_array_equal((np.array([[1, 0], [0, 1]]) @ a).data, a.data)
    with pytest.raises(ValueError):
        Tensor([[1, 2, 3]]) @ Tensor([[1, 2]])


def test_unsupported_operand_raises_type_error() -> None:
    with pytest.raises(TypeError):
        Tensor([1.0]) + "a"


def test_type_of_tensor_rebuilds_from_an_array() -> None:
    x = TaggedTensor([1.0, 2.0])
    rebuilt = type(x)(np.array([3.0, 4.0]))
    assert type(rebuilt) is TaggedTensor
    assert rebuilt.dtype == np.float32


def test_arithmetic_preserves_subclass() -> None:
    x = TaggedTensor([1, 2, 3])
    for result in (x * 2, 2 * x, x + Tensor([1, 1, 1]), x / 2, x - 1, -x, x @ x):
        assert type(result) is TaggedTensor


def test_equality_is_identity_not_elementwise() -> None:
    a = Tensor([1, 2, 3])
    alias = a
    same_values = Tensor([1, 2, 3])
    assert a == alias
    assert a != same_values
    assert a in [a]
    assert {a: "ok"}[a] == "ok"
