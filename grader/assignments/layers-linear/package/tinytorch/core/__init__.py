"""Core building blocks: the tensor (module 01) and the activations (module 02)."""
