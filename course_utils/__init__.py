"""Helpers for the course *Deep Learning Architectures, interactive*.

Import the module you need, e.g. ``from course_utils import data, train, plotting``.
Importing the package has no side effects (no seeding, no downloads, no rcParams).
"""

__version__ = "0.2.0"
