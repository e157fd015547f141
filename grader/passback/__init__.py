"""Passback channels: how a stored score reaches an LMS (signed webhook, or LTI Assignment and Grade Services)."""
