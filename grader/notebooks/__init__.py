"""Reading notebooks (.py percent and .ipynb) and restoring locked cells from the instructor source."""
