"""TODO map"""

from . import checks, elbo, models, training, views

__all__ = ["checks", "elbo", "models", "training", "views"]
