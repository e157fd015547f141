"""TinyTorch, as students import it."""
