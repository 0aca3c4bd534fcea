"""TODO map"""

from . import checks, gradients, tasks, views

__all__ = ["checks", "gradients", "tasks", "views"]
