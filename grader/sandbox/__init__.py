"""Running untrusted student code: limits, the runner interface and its backends."""
