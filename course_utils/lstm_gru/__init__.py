"""TODO map"""

from . import charlm, checks, longrange, models, views

__all__ = ["charlm", "checks", "longrange", "models", "views"]
