"""Assignment bundles: the format and its loader, the bundles shipped with the grader, and their releases."""
