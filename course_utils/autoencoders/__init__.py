"""Chapter 05, autoencoders (notebooks/05_autoencoders); chapter 06 reuses its models, training and views.
``models``: MLPAutoencoder, ConvAutoencoder · ``training``: the loss, the ``train.fit`` step, noise, anomaly scores
``views``: the chapter's widgets (``*_view``) and their static twins (``*_figure``) · ``checks``: the exercise checks
"""

from . import checks, models, training, views

__all__ = ["checks", "models", "training", "views"]
