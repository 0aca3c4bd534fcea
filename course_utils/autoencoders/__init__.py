"""Chapter 05, autoencoders (notebooks/05_autoencoders); chapter 06 reuses its models, training and views.
``models``: MLPAutoencoder, ConvAutoencoder · ``training``: the loss, the ``train.fit`` step, noise, anomaly scores
``measures``: sharpness, power spectrum, grid share, neighbour labels · ``views``: widgets and static twins
``checks``: the exercise checks
"""

from . import checks, measures, models, training, views

__all__ = ["checks", "measures", "models", "training", "views"]
