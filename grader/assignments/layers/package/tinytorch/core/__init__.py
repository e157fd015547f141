"""Core modules from earlier course units."""
