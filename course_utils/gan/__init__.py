"""Chapter 04, generative adversarial networks (notebooks/04_gan): ``models`` (toy MLPs, GAN pair, DCGAN), ``losses``.
``training`` holds the train.fit steps (``gan_step``, ``wgan_gp_step``), the three variants and their checkpoints;
``evaluation`` the Fréchet distance, class coverage and toy mode counting; ``views`` figures and widgets; ``checks``.
"""

from . import checks, evaluation, losses, models, training, views

__all__ = ["checks", "evaluation", "losses", "models", "training", "views"]
