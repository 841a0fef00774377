"""Fix scripts shipped as package data; load them with ``importlib.resources.files(__name__)``."""
