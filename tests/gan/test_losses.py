"""course_utils.gan.losses: the value function, both generator losses, the critic loss and the gradient penalty."""

import math

import pytest
import torch
import torch.nn as nn

from course_utils.gan import losses


def test_discriminator_loss_is_minus_the_value_function():
    real, fake = torch.randn(7, 1), torch.randn(7, 1)
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(losses.discriminator_loss(real, fake), -value, atol=1e-6)
    # at the equilibrium D = 1/2 everywhere, V = -log 4
    assert math.isclose(losses.discriminator_loss(torch.zeros(3, 1), torch.zeros(3, 1)).item(), math.log(4), rel_tol=1e-6)


def test_discriminator_loss_averages_each_expectation_over_its_own_batch():
    # 2 real and 6 fake logits: -V = mean over the reals + mean over the fakes, not one mean over all 8 terms
    real, fake = torch.tensor([[2.0], [-1.0]]), torch.linspace(-2, 3, 6)[:, None]
    want = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    assert losses.discriminator_loss(real, fake).item() == pytest.approx(want.item(), rel=1e-6)


def test_generator_losses_known_values_and_gradients():
    zero = torch.zeros(4, 1)
    assert math.isclose(losses.generator_loss(zero, "non_saturating").item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(losses.generator_loss(zero, "saturating").item(), -math.log(2), rel_tol=1e-6)
    for d in (0.001, 0.01, 0.1, 0.5, 0.9):
        logit = torch.logit(torch.tensor([d], dtype=torch.float64)).requires_grad_(True)
        (sat,) = torch.autograd.grad(losses.generator_loss(logit, "saturating"), logit)
        (non,) = torch.autograd.grad(losses.generator_loss(logit, "non_saturating"), logit)
        assert math.isclose(sat.item(), -d, rel_tol=1e-6)  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
        assert math.isclose(non.item(), -(1 - d), rel_tol=1e-6)  # d/dl -log sigmoid(l) = -(1 - sigmoid(l))
    assert torch.isfinite(losses.generator_loss(torch.tensor([[-500.0]]), "non_saturating"))
    # a mean over the batch: the loss of a batch is the average of its samples' losses
    batch = torch.randn(5, 1)
    per_sample = torch.stack([losses.generator_loss(b[None], "non_saturating") for b in batch])
    assert losses.generator_loss(batch, "non_saturating").item() == pytest.approx(per_sample.mean().item(), rel=1e-6)


class _Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x.flatten(1) @ self.w[:, None]


class _Quadratic(nn.Module):
    """f(x) = |x|^2 / 2 per sample: the gradient at x is x itself, so every sample has its own gradient norm."""

    def forward(self, x):
        return 0.5 * (x.flatten(1) ** 2).sum(1, keepdim=True)


class _Recorder(nn.Module):
    """A linear critic that keeps the points it was evaluated at."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(12))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return x.flatten(1) @ self.w[:, None]


def test_critic_loss_and_gradient_penalty_known_values():
    assert losses.critic_loss(torch.tensor([3.0, 5.0]), torch.tensor([1.0, 1.0])).item() == pytest.approx(-3.0)
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    # a linear critic has the same gradient w everywhere: penalty (|w| - 1)^2
    assert losses.gradient_penalty(_Linear([0.6, 0.8]), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert losses.gradient_penalty(_Linear([3.0, 0.0]), real, fake).item() == pytest.approx(4.0)
    critic = _Linear([3.0, 0.0])
    losses.gradient_penalty(critic, real, fake).backward()
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0  # the penalty trains the critic
    with pytest.raises(AssertionError, match="real and fake differ in shape"):
        losses.gradient_penalty(critic, real, fake[:3])


def test_gradient_penalty_takes_one_norm_per_sample():
    # real == fake pins x_hat to the real points whatever alpha is; the gradient there is x_hat itself
    x = torch.tensor([[3.0, 4.0], [0.0, 0.5], [1.0, 0.0]])  # norms 5, 0.5, 1
    want = ((5 - 1) ** 2 + (0.5 - 1) ** 2 + (1 - 1) ** 2) / 3  # per sample, then the mean over the batch
    assert losses.gradient_penalty(_Quadratic(), x, x.clone()).item() == pytest.approx(want)


def test_gradient_penalty_mixes_each_sample_with_one_weight():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 3, 2, 2, generator=g), torch.randn(64, 3, 2, 2, generator=g)
    critic = _Recorder()
    losses.gradient_penalty(critic, real, fake)
    x_hat = critic.seen[0]
    # x_hat = alpha * real + (1 - alpha) * fake with ONE alpha per sample: x_hat - fake is a multiple of real - fake
    step, offset = (real - fake).flatten(1), (x_hat - fake).flatten(1)
    alpha = (offset * step).sum(1) / (step * step).sum(1)  # the best single weight of each sample
    assert torch.allclose(offset, alpha[:, None] * step, atol=1e-5), "alpha was drawn per element, not per sample"
    assert alpha.min() >= 0 and alpha.max() <= 1 and alpha.std() > 0.1  # uniform in [0, 1]
