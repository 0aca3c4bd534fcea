"""Helpers for the course *Deep Learning Architectures, interactive*.

Files are shared plumbing; folders are chapters (each named like its notebook without the number).

- ``runtime`` (device, seeds, smoke mode, the one reader of COURSE_* variables), ``data`` (Fashion-MNIST,
  offline first, verified), ``batches`` (in-memory and freshly generated batches), ``augment`` (batch
  augmentation), ``train`` (one trainer: fit, evaluate, predict, callbacks), ``plotting`` (figures), ``widgets``
  (slider views and their static twins), ``checkpoints`` (safe save/load and the shipped checkpoints),
  ``checks`` (the exercise-check harness), ``results`` (headline numbers for the benchmarks), ``environment``
  (is this machine ready?). None of them knows about any chapter.
- ``cnn/`` 01, ``rnn_bptt/`` 02, ``lstm_gru/`` 03, ``gan/`` 04, ``autoencoders/`` 05, ``vae/`` 06: each holds
  ``models``, ``training``, ``views`` and ``checks`` where the chapter has them, plus a file or two named after an
  idea the chapter owns. A notebook imports the file it uses: ``from course_utils.gan import models, views``.

Importing the package has no side effects (no seeding, no downloads, no rcParams).
"""

__version__ = "0.3.0"
