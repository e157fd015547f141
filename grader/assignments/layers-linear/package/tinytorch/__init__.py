"""The course package as students of the layers module have it: what modules 01 and 02 built."""
