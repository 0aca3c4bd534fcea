"""TODO map"""

from . import checks, models, training, views

__all__ = ["checks", "models", "training", "views"]
