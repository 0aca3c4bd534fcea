"""TODO map"""

from . import checks, evaluation, models, training, views

__all__ = ["checks", "evaluation", "models", "training", "views"]
