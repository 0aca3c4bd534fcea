"""TODO map"""

from . import checks, models, views

__all__ = ["checks", "models", "views"]
