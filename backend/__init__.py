"""syncboard: a collaborative whiteboard server (``python -m backend``, ``syncboard``)."""

__version__ = "0.1.0"
