"""TinyTorch autograder: from a student's layers_dev.py to a stored, explained score."""
