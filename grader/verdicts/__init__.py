"""Trusted verdicts: the untrusted sandbox report, parsed strictly and judged against the reference."""
