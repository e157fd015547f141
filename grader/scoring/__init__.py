"""Scoring: verdicts and the rubric in, points out. Pure functions, table-tested."""
