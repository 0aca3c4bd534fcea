import numpy as np
import pytest
import torch
import torch.nn as nn

from course_utils.autoencoders import checks, measures, training, views


def test_sharpness_is_the_mean_neighbour_difference():
    assert measures.sharpness(torch.full((3, 1, 28, 28), 0.4)) == 0.0
    board = ((torch.arange(28)[:, None] + torch.arange(28)[None, :]) % 2).float()[None, None]  # 0/1 checkerboard
    assert measures.sharpness(board) == pytest.approx(2.0)  # 1 horizontally + 1 vertically
    ramp = (torch.arange(28).float() / 27).expand(28, 28)[None]  # rises 1/27 per column, flat down the rows
    assert measures.sharpness(ramp) == pytest.approx(1 / 27)
    with pytest.raises(TypeError, match="tensor or array"):
        measures.sharpness([[0.1, 0.2]])
    with pytest.raises(ValueError, match="NaN"):
        measures.sharpness(torch.full((1, 28, 28), float("nan")))


def test_power_spectrum_puts_a_cosine_on_its_frequency():
    x = torch.cos(2 * torch.pi * 3 * torch.arange(28) / 28).expand(28, 28)[None] + 0.5  # 3 cycles across, mean 0.5
    spectrum = measures.power_spectrum(x)
    assert spectrum.shape == (28, 28)
    peaks = {tuple(p) for p in np.argwhere(spectrum > 0.4 * spectrum.max())}
    assert peaks == {(14, 14 - 3), (14, 14 + 3)}  # zero frequency at (14, 14); the mean is removed


def test_grid_power_share_finds_a_period_4_pattern_and_nothing_else():
    g = torch.Generator().manual_seed(0)
    tile = torch.rand(4, 4, generator=g)
    periodic = tile.repeat(7, 7)[None]  # repeats every 4 pixels in both directions
    assert measures.grid_power_share(periodic) == pytest.approx(1.0)
    blob = torch.exp(-((torch.arange(28) - 13.5) ** 2)[:, None] / 40 - ((torch.arange(28) - 13.5) ** 2)[None] / 40)[None]
    assert measures.grid_power_share(blob) < 0.02  # smooth: its power sits near zero frequency
    white = torch.rand(400, 28, 28, generator=g)
    assert measures.grid_power_share(white) == pytest.approx(15 / 783, rel=0.15)  # flat spectrum
    assert measures.grid_power_share(tile.repeat(14, 14)[None], period=2) < 1  # period 4 is not period 2
    with pytest.raises(ValueError, match="divides the image size"):
        measures.grid_power_share(white, period=5)
    with pytest.raises(ValueError, match="flat"):
        measures.grid_power_share(torch.zeros(2, 28, 28))


def test_neighbour_label_agreement_per_class():
    g = torch.Generator().manual_seed(0)
    apart = torch.cat([torch.randn(30, 2, generator=g), torch.randn(30, 2, generator=g) + 50])
    labels = torch.cat([torch.zeros(30), torch.ones(30)]).long()
    assert np.allclose(measures.neighbour_label_agreement(apart, labels, k=5), [1.0, 1.0])
    # class 1 sits inside class 0's cloud on one side only: its points' neighbours are mixed, class 2's are not
    mixed = torch.cat([torch.randn(40, 2, generator=g), torch.randn(40, 2, generator=g), torch.randn(40, 2, generator=g) + 50])
    labels3 = torch.cat([torch.zeros(40), torch.ones(40), torch.full((40,), 2)]).long()
    agree = measures.neighbour_label_agreement(mixed, labels3, k=10)
    assert 0.3 < agree[0] < 0.7 and 0.3 < agree[1] < 0.7 and agree[2] == 1.0
    with pytest.raises(ValueError, match="k must be"):
        measures.neighbour_label_agreement(apart, labels, k=60)
    with pytest.raises(ValueError, match="one label per point"):
        measures.neighbour_label_agreement(apart, labels[:10])


def test_crop_rows_shows_the_box_of_each_image():
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    fig = views.crop_rows({"a": images, "b": 1 - images}, box=(7, 5, 14, 10))
    axes = fig.axes
    assert len(axes) == 6
    assert np.allclose(axes[1].images[0].get_array(), images[1, 0, 7:21, 5:15].numpy())
    assert np.allclose(axes[3].images[0].get_array(), 1 - images[0, 0, 7:21, 5:15].numpy())
    with pytest.raises(ValueError, match="outside"):
        views.crop_rows({"a": images}, box=(20, 0, 14, 14))
    with pytest.raises(ValueError, match="top, left, height, width"):
        views.crop_rows({"a": images}, box=(0, 0, 14))


def test_checkerboard_figure_draws_tiles_and_the_spectrum():
    images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    fig = views.checkerboard_figure({"one": images, "two": images.flip(0)}, n_tiles=2)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 6  # 2 rows x (2 tiles + 1 spectrum)
    assert np.allclose(image_axes[1].images[0].get_array(), images[1, 0].numpy())
    spectrum = image_axes[2].images[0].get_array()
    assert np.allclose(spectrum, np.log10(measures.power_spectrum(images) + 1e-6))
    with pytest.raises(ValueError, match="n_tiles"):
        views.checkerboard_figure({"one": images}, n_tiles=0)


def _retrieve(queries, database, k):
    return torch.cdist(queries, database).topk(k, largest=False).indices


@pytest.mark.parametrize("wrong,hint", [
    (lambda q, d, k: torch.cdist(q, d).topk(k, largest=False).values, "not their distances"),
    (lambda q, d, k: torch.cdist(q, d).topk(k, largest=True).indices, "farthest"),
    (lambda q, d, k: (q @ d.T).topk(k).indices, "dot product"),
    (lambda q, d, k: torch.cdist(d, q).topk(k, largest=False).indices, "for each database row"),
    (lambda q, d, k: _retrieve(q, d, k).T, "not (k, n_queries)"),
    (lambda q, d, k: _retrieve(q, d, k).flip(1), "wrong order"),
    (lambda q, d, k: _retrieve(q, d, k + 1)[:, 1:], "not the k nearest"),
])
def test_retrieve_check_names_the_mistake(wrong, hint, capsys):
    assert checks.check_retrieve(_retrieve)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_retrieve(wrong)
    assert hint in capsys.readouterr().out


@pytest.mark.parametrize("answer, passes, hint", [
    (3, False, "pass your function itself"),
    (lambda q, d, k: _retrieve(q, d, 4), False, "k = 1"),                    # ignores k: it used to pass
    (lambda q, d, k: _retrieve(q, d, k) + 100, False, "rows of the database"),
    (lambda q, d, k: _retrieve(q, d, k) >= 0, False, "True/False"),
])
def test_retrieve_check_refuses_odd_answers(answer, passes, hint, capsys):
    assert checks.check_retrieve(answer) is passes
    out = capsys.readouterr().out
    assert hint in out and "raised" not in out, out


class _Shift(nn.Module):
    """decode(encode(x)) = x + the shift held in its one parameter (0.1 at the start)."""

    def __init__(self):
        super().__init__()
        self.shift = nn.Parameter(torch.tensor(0.1))

    def encode(self, x):
        return x.flatten(1)

    def decode(self, z):
        return z.view(-1, 1, 28, 28) + self.shift


def test_fit_autoencoder_scores_x_val_after_every_epoch():
    X, X_val = torch.full((32, 1, 28, 28), 0.5), torch.full((10, 1, 28, 28), 0.2)
    model = _Shift()
    history = training.fit_autoencoder(model, X, num_epochs=3, batch_size=8, loss="mse", lr=0.01, X_val=X_val)
    assert len(history["val_loss"]) == 3
    assert history["val_loss"][-1] == pytest.approx(model.shift.item() ** 2, rel=1e-4)  # scored with the final weights
    assert history["val_loss"][0] > history["val_loss"][-1]  # the shift shrinks, on unseen images too
    with pytest.raises(ValueError, match="X_val must"):
        training.fit_autoencoder(_Shift(), X, num_epochs=1, loss="mse", X_val=torch.zeros(4, 28, 28))
