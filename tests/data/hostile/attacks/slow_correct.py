"""A correct notebook that is merely slow: three seconds of sleep at import."""
import time

time.sleep(3)
