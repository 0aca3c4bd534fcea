"""Chapter 01 (notebooks/01_cnn): ``models.py`` Normalize, the MLP baseline, conv_block, FashionCNN (§5; reused by 04, 06);
``views.py`` the widgets: conv arithmetic (§3, static twin ``conv_arithmetic_figure``) and feature maps (§8);
``checks.py`` the checks of exercises 1-3. No training loop lives here: the notebook's recipe calls ``train.fit``.
"""

from . import checks, models, views

__all__ = ["checks", "models", "views"]
