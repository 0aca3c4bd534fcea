"""Chapter 06, variational autoencoders (notebooks/06_vae); reuses chapter 05's autoencoder and chapter 04's scores.
``models``: MLPVAE, ConvVAE, ConvHeadVAE, CVAE, VQVAE · ``elbo``: Gaussian KL, reparameterization, the ELBO step, its measures
``training``: fit_vae, fit_for_seconds, the race checkpoints · ``views``: widgets and twins · ``checks``: exercises
"""

from . import checks, elbo, models, training, views

__all__ = ["checks", "elbo", "models", "training", "views"]
