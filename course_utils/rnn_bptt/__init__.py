"""Chapter 02, recurrent networks and backpropagation through time (notebooks/02_rnn_bptt): the chapter's toolbox.
``tasks`` makes the sequence data (image rows as tokens, recall, echo, adding); ``gradients`` measures how far
gradients reach back in time; ``views`` draws the chapter's figures and widgets; ``checks`` checks its exercises.
"""

from . import checks, gradients, tasks, views

__all__ = ["checks", "gradients", "tasks", "views"]
