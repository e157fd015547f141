"""The layers-linear answer key, used by hidden_tests.py outside the sandbox; never staged."""
