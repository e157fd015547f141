# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.17.1
# ---

# %% [markdown]
# # Module 03: Layers
#
# A neural network is a stack of layers. In this module you write the two you will use in every model that
# follows:
#
# - `Linear`, the fully connected layer: it mixes every input feature into every output feature with a learned
#   weight matrix and adds a learned bias;
# - `Dropout`, a regulariser: while training it silences a random share of its inputs, so that no single
#   feature can carry the whole prediction.
#
# Both build on `Layer`, a small base class that fixes the interface every layer shares: `forward(x)`,
# calling the layer like a function, and `parameters()`, the list of tensors an optimiser will update.
#
# You need the `Tensor` of module 01 and the activations of module 02; they are imported from the course
# package below.

# %% nbgrader={"grade": false, "grade_id": "imports", "solution": false}
#| default_exp core.layers
#| export

import numpy as np
from tinytorch.core.activations import ReLU
from tinytorch.core.tensor import Tensor

# %% [markdown]
# ## The base class
#
# `Layer` is given. A subclass overrides `forward`; the base class makes `layer(x)` mean `layer.forward(x)` and
# reports no parameters unless the subclass has some.

# %% nbgrader={"grade": false, "grade_id": "layer-base", "solution": false}
#| export
class Layer:
    """What every layer of the course offers: forward, a function-call shorthand, and its parameters."""

    def forward(self, x):
        """Map the input tensor to the output tensor; every concrete layer defines this."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, x, *args, **kwargs):
        """`layer(x)` is `layer.forward(x)`, extra arguments included."""
        return self.forward(x, *args, **kwargs)

    def parameters(self):
        """The tensors an optimiser should update; a layer without weights has none."""
        return []

    def __repr__(self):
        return f"{type(self).__name__}()"

# %% [markdown]
# ## Linear
#
# For a batch `x` of shape `(batch, in_features)` the layer returns `x @ W + b`, of shape
# `(batch, out_features)`:
#
# - `W` is stored as `self.weight`, a Tensor of shape **`(in_features, out_features)`**: row `i` holds how input
#   feature `i` feeds each output. (PyTorch's `nn.Linear` stores the transpose, `(out_features, in_features)`,
#   and computes `x @ W.T`. This course does not: keep the rows as inputs.)
# - `b` is stored as `self.bias`, a Tensor of shape `(out_features,)`, or `None` when the layer is built with
#   `bias=False`.
# - Both parameters are created with `requires_grad=True`: the autograd module will fill their `grad`.
#
# **Initialisation.** Start `W` from `np.random.randn(in_features, out_features)` multiplied by
# `sqrt(1 / in_features)`, so each output starts with a variance close to its inputs' however wide the layer is;
# start the bias at zero.
#
# `parameters()` returns `[weight, bias]`, or `[weight]` without a bias, the very Tensor objects the layer holds.

# %% nbgrader={"grade": false, "grade_id": "linear-layer", "solution": true}
#| export
class Linear(Layer):
    """A fully connected layer: y = x @ weight + bias."""

    def __init__(self, in_features, out_features, bias=True):
        """Create the weight (in_features, out_features) and the bias (out_features,) or None."""
        ### BEGIN SOLUTION
        self.in_features = in_features
        self.out_features = out_features
        spread = np.sqrt(1.0 / in_features)
        self.weight = Tensor(np.random.randn(in_features, out_features) * spread, requires_grad=True)
        self.bias = Tensor(np.zeros(out_features), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x):
        """Return x @ weight, plus the bias when there is one."""
        ### BEGIN SOLUTION
        product = x.matmul(self.weight)
        return product if self.bias is None else product + self.bias
        ### END SOLUTION

    def __call__(self, x):
        return self.forward(x)

    def parameters(self):
        """The weight, then the bias if the layer has one."""
        ### BEGIN SOLUTION
        return [self.weight] if self.bias is None else [self.weight, self.bias]
        ### END SOLUTION

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None})"

# %% [markdown]
# ### Check your Linear layer
#
# The three cells below are the graded tests of `Linear`. Run them after each change.

# %% nbgrader={"grade": true, "grade_id": "test-linear", "locked": true, "points": 15}
def test_unit_linear_layer():
    """Construction, initialisation, a forward pass and the parameter list of Linear."""
    layer = Linear(256, 64)
    assert (layer.in_features, layer.out_features) == (256, 64), "Linear should remember its sizes"
    assert layer.weight.shape == (256, 64), \
        f"the weight should have shape (in_features, out_features) = (256, 64), got {layer.weight.shape} " \
        "(PyTorch's nn.Linear stores (out_features, in_features); this course's Linear does not)"
    assert layer.bias is not None and layer.bias.shape == (64,), "the bias should have shape (out_features,)"
    assert np.all(layer.bias.data == 0), "the bias should start at zero"
    spread = float(np.std(layer.weight.data))
    target = np.sqrt(1.0 / 256)
    assert 0.8 * target < spread < 1.25 * target, \
        f"the weights' standard deviation should be near sqrt(1/in_features) = {target:.4f}, got {spread:.4f}"

    batch = Tensor(np.linspace(-1.0, 1.0, 16 * 256).reshape(16, 256))
    out = layer(batch)
    assert out.shape == (16, 64), f"a batch of 16 should give shape (16, 64), got {out.shape}"

    bare = Linear(8, 3, bias=False)
    assert bare.bias is None, "with bias=False the bias should be None"
    assert len(bare.parameters()) == 1 and bare.parameters()[0] is bare.weight, \
        "without a bias, parameters() should be [weight]"
    listed = layer.parameters()
    assert len(listed) == 2 and listed[0] is layer.weight and listed[1] is layer.bias, \
        "parameters() should be [weight, bias], the layer's own tensors"

# %% nbgrader={"grade": true, "grade_id": "test-linear-edge-cases", "locked": true, "points": 5}
def test_edge_cases_linear():
    """Known weights give known outputs; one sample, an empty batch and no bias still work."""
    layer = Linear(3, 2)
    layer.weight.data = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])
    layer.bias.data = np.array([0.5, -0.5])
    out = layer(Tensor([[1.0, 2.0, 3.0]]))
    assert out.shape == (1, 2), f"one sample should give shape (1, 2), got {out.shape}"
    assert np.allclose(out.data, [[7.5, -1.5]]), f"x @ W + b should be [[7.5, -1.5]], got {out.data.tolist()}"

    empty = layer(Tensor(np.zeros((0, 3))))
    assert empty.shape == (0, 2), f"an empty batch should give shape (0, 2), got {empty.shape}"

    big = Linear(4, 2)
    big.weight.data = np.full((4, 2), 1000.0)
    loud = big(Tensor(np.ones((2, 4))))
    assert np.all(np.isfinite(loud.data)), "large weights should still give finite outputs"

    bare = Linear(4, 2, bias=False)
    bare.weight.data = np.ones((4, 2))
    assert np.allclose(bare(Tensor(np.ones((1, 4)))).data, [[4.0, 4.0]]), "without a bias, y = x @ W"

# %% nbgrader={"grade": true, "grade_id": "test-linear-grad-prep", "locked": true, "points": 5}
def test_gradient_preparation_linear():
    """The parameters are ready for the autograd module: they ask for gradients and have a grad slot."""
    layer = Linear(6, 4)
    for name, tensor in (("weight", layer.weight), ("bias", layer.bias)):
        assert tensor.requires_grad is True, f"the {name} should be created with requires_grad=True"
        assert hasattr(tensor, "grad"), f"the {name} should have a grad attribute"
    params = layer.parameters()
    assert len(params) == 2 and all(p.requires_grad is True for p in params), \
        "parameters() should list the weight and the bias, both requiring gradients"
    assert len(Linear(6, 4, bias=False).parameters()) == 1, "a layer without bias has one parameter"

# %% [markdown]
# ## Dropout
#
# `Dropout(p)` keeps each entry of its input with probability `1 - p` and zeroes it otherwise, while training.
# The entries it keeps are multiplied by `1 / (1 - p)`, so the expected value of every output equals its input
# ("inverted dropout"): nothing needs rescaling when training ends.
#
# - `forward(x, training=True)`: in training, draw the mask with `np.random`; with `training=False` return the
#   input unchanged.
# - `p = 0` keeps everything and `p = 1` drops everything (return zeros; do not divide by zero).
# - A probability outside `[0, 1]` is a mistake: raise `ValueError` in the constructor.
# - Dropout has no parameters.

# %% nbgrader={"grade": false, "grade_id": "dropout-layer", "solution": true}
#| export
class Dropout(Layer):
    """Zeroes entries at random in training (rate p) and rescales the survivors by 1 / (1 - p)."""

    def __init__(self, p=0.5):
        """Keep the drop probability; refuse one outside [0, 1]."""
        ### BEGIN SOLUTION
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must lie in [0, 1], got {p}")
        self.p = p
        ### END SOLUTION

    def forward(self, x, training=True):
        """Training: mask and rescale. Evaluation: the identity."""
        ### BEGIN SOLUTION
        if not training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return Tensor(np.zeros(x.shape), requires_grad=x.requires_grad)
        keep = np.random.random(x.shape) >= self.p
        return x * Tensor(keep / (1.0 - self.p))
        ### END SOLUTION

    def __call__(self, x, training=True):
        return self.forward(x, training)

    def parameters(self):
        return []

    def __repr__(self):
        return f"Dropout(p={self.p})"

# %% [markdown]
# ### Check your Dropout layer

# %% nbgrader={"grade": true, "grade_id": "test-dropout", "locked": true, "points": 10}
def test_unit_dropout_layer():
    """Evaluation, the two extreme rates, the training scale and rate, and bad probabilities."""
    x = Tensor([[1.0, -2.0, 3.0, 0.5]])
    half = Dropout(0.5)
    assert half.p == 0.5, "Dropout should remember p"
    assert np.array_equal(half(x, training=False).data, x.data), "with training=False the input passes unchanged"
    assert np.array_equal(Dropout(0.0)(x, training=True).data, x.data), "p = 0 keeps every entry"
    assert np.all(Dropout(1.0)(x, training=True).data == 0), "p = 1 drops every entry"

    rate = 0.25
    out = Dropout(rate)(Tensor(np.ones(4000)), training=True).data
    kept = out[out != 0]
    assert np.allclose(kept, 1 / (1 - rate)), f"kept entries should be scaled to 1/(1-p) = {1 / (1 - rate):.4f}"
    share = kept.size / out.size
    # the kept share of 4000 entries has a standard deviation of about 0.007: 0.05 is seven of them
    assert abs(share - (1 - rate)) < 0.05, f"about {1 - rate:.0%} of the entries should be kept, got {share:.1%}"
    assert Dropout(0.3).parameters() == [], "Dropout has no parameters"

    for bad in (-0.1, 1.5):
        try:
            Dropout(bad)
        except ValueError:
            continue
        raise AssertionError(f"Dropout({bad}) should raise ValueError")

# %% [markdown]
# ## A look at the cost of layers
#
# Two small tools for the questions at the end: how much memory a stack of layers holds, and how long a forward
# pass takes. They only print; nothing is graded.

# %% nbgrader={"grade": false, "grade_id": "analyze-layer-memory", "solution": false}
def analyze_layer_memory():
    """Bytes held by the weight and bias of a few layer sizes (float32, 4 bytes an entry)."""
    for fan_in, fan_out in ((784, 256), (256, 256), (256, 10)):
        entries = fan_in * fan_out + fan_out
        print(f"Linear({fan_in}, {fan_out}): {entries:,} parameters, {entries * 4 / 1024:.1f} KiB")

# %% nbgrader={"grade": false, "grade_id": "analyze-layer-performance", "solution": false}
def analyze_layer_performance():
    """Wall time of one forward pass of Linear(784, 256) at a few batch sizes."""
    import time

    layer = Linear(784, 256)
    for batch in (1, 32, 256):
        x = Tensor(np.random.randn(batch, 784))
        start = time.perf_counter()
        layer(x)
        print(f"batch {batch:4d}: {(time.perf_counter() - start) * 1000:.2f} ms")

# %% [markdown]
# ## Putting the layers together

# %% nbgrader={"grade": true, "grade_id": "module-integration", "locked": true, "points": 20}
def test_module():
    """A small network built from the module's layers: shapes, parameters and the two modes of Dropout."""
    first, act, drop, second = Linear(20, 12), ReLU(), Dropout(0.4), Linear(12, 3)
    x = Tensor(np.sin(np.arange(100.0)).reshape(5, 20))
    hidden = drop(act(first(x)), training=False)
    assert np.array_equal(hidden.data, act(first(x)).data), "in evaluation Dropout should change nothing"
    out = second(hidden)
    assert out.shape == (5, 3), f"the network should map (5, 20) to (5, 3), got {out.shape}"
    assert np.all(np.isfinite(out.data)), "the network's outputs should be finite"

    trained = second(drop(act(first(x)), training=True))
    assert trained.shape == (5, 3), "training mode should not change shapes"

    params = first.parameters() + drop.parameters() + second.parameters()
    assert len(params) == 4, f"two Linear layers and a Dropout hold 4 parameters, got {len(params)}"
    assert [p.size for p in params] == [20 * 12, 12, 12 * 3, 3], "the parameters should be weight, bias, weight, bias"
    assert all(p.requires_grad for p in params), "every parameter should require gradients"
    assert isinstance(first, Layer) and isinstance(drop, Layer), "Linear and Dropout should be Layers"

# %% [markdown]
# ## Running the module as a script

# %% nbgrader={"grade": false, "grade_id": "main-execution", "solution": false}
if __name__ == "__main__":
    test_unit_linear_layer()
    test_edge_cases_linear()
    test_gradient_preparation_linear()
    test_unit_dropout_layer()
    test_module()
    analyze_layer_memory()
    analyze_layer_performance()
    print("All layer tests passed.")

# %% [markdown]
# ## Questions
#
# 1. `Linear(784, 256)` holds how many parameters, and how many bytes in float32? What happens to that figure
#    when the hidden layer doubles in width?
# 2. Why does inverted dropout scale the kept entries while training, rather than scaling every entry by
#    `1 - p` at test time? What would go wrong if you did neither?
# 3. With `sqrt(1 / in_features)` as the initial spread, compare `Linear(1000, 10)` and `Linear(10, 1000)`:
#    which has the smaller weights, and why is that the right way round?
