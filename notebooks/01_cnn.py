# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Convolutional neural networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dla-interactive/deep-learning-architectures/blob/main/notebooks/01_cnn.ipynb)
#
# **After this chapter you can**
# - explain why a dense layer is the wrong tool for images, and what local connectivity, weight sharing and translation equivariance buy;
# - compute any convolution's output size and receptive field from kernel, stride, padding and dilation, and write a convolution yourself;
# - build, train and read a compact CNN (conv → batch norm → ReLU → pool) that beats an MLP with fewer parameters;
# - say what LeNet-5, AlexNet, VGG, GoogLeNet and ResNet each introduced;
# - measure what initialisation (He) and batch norm do to the gradient of a deep net, show that deep plain nets
#   train worse than shallow ones even with healthy gradients (degradation), and how a skip connection fixes it;
# - look inside a trained network: its filters and its feature maps.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | all 60,000 training images, 9 epochs for the CNN | <!-- runtime:full -->3.8 min (measured on 2 CPU cores, torch 2.14.1+cu130; every chapter: the README's chapter table)<!-- /runtime --> |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, short loops: checks that everything runs | <!-- runtime:smoke -->23 s (measured on 2 CPU cores, torch 2.14.1+cu130; CI allows 45 s)<!-- /runtime --> |
#
# Prerequisites: PyTorch tensors, `nn.Module`, a training loop with an optimizer, cross-entropy.

# %%
# Setup. In Google Colab this installs the course helpers at the version this notebook was written for, quietly
# and without replacing any package Colab ships (so no restart); anywhere else it only checks the installed version.
import sys

COURSE_UTILS_VERSION = "0.3.0"


class SetupError(Exception):
    def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
        return [f"SetupError: {self}"]


if "google.colab" in sys.modules:
    import importlib.metadata
    import subprocess

    try:
        installed = importlib.metadata.version("course_utils")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != COURSE_UTILS_VERSION:
        tag = f"course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@v{COURSE_UTILS_VERSION}"
        main = "course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@main"
        if subprocess.run([sys.executable, "-m", "pip", "install", "-q", tag], capture_output=True).returncode:
            raise SetupError(f"could not install course_utils v{COURSE_UTILS_VERSION} from its tag (not on GitHub yet?). "
                             f'Instead run, in a new cell:  %pip install -q "{main}"  and then this cell again.')
try:
    from course_utils import runtime
except ModuleNotFoundError:
    raise SetupError("course_utils is not installed: run `make lab`, or `pip install -e .` in the course folder.") from None

version_ok = runtime.check_version(COURSE_UTILS_VERSION)

# %% [markdown]
# Everything that decides how long the chapter takes sits in one configuration cell. The left column is the
# full run you read about; the right column is the *smoke* run that CI uses (set `COURSE_SMOKE=1`).

# %%
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import display

from course_utils import augment, data, plotting, results, runtime, train, widgets
from course_utils.cnn import checks, models, recipe, views
from course_utils.widgets import show_source

chapter_start = time.perf_counter()
cfg = runtime.Config(
    n_train=(None, 2000),        # None: all 60,000 training images
    n_test=(None, 1000),
    batch_size=(256, 256),
    cnn_epochs=(9, 1),
    mlp_epochs=(6, 1),
    lr=(0.2, 0.2),               # peak learning rate of the CNN's one-cycle schedule
    mlp_lr=(0.1, 0.1),           # the MLP's (set by hand, not tuned)
    deep_steps=(100, 10),        # training steps of each deep-net run in section 7 and exercise 3
    deep_seeds=(3, 1),           # seeds per deep-net configuration in section 7
    exercise_n_train=(12000, 1000),
    seed=(0, 0),
)
display(cfg)

# %%
generator = runtime.seed_everything(cfg.seed)
device = runtime.get_device()
ds = data.load_fashion_mnist(n_train=cfg.n_train, n_test=cfg.n_test)
print(ds)
print("device:", device, "| threads:", torch.get_num_threads())

# %% [markdown]
# Fashion-MNIST: 28×28 grey photos of clothing in ten classes, 60,000 for training and 10,000 for testing.
# `load_fashion_mnist` returns them as in-memory tensors with pixel values in [0, 1]; the line above says
# where it found them (a cache, Debian's system copy, a download, or the small subset bundled with the course).

# %%
fig = plotting.image_row(ds.X_train[:10], titles=[ds.classes[int(c)] for c in ds.y_train[:10]], size=1.1)
fig

# %% [markdown]
# ## 1. Why dense layers fail on images
#
# A dense (fully connected) layer connects every input value to every output unit. For a modest colour image
# of 256×256 pixels and a first layer of 1,000 units, that is one weight per (pixel, channel, unit):

# %%
# NBVAL_CHECK_OUTPUT
def dense_params(h, w, c, units):
    """Weights plus biases of nn.Linear(h*w*c, units)."""
    return h * w * c * units + units


small = nn.Linear(32 * 32 * 3, 100)
assert dense_params(32, 32, 3, 100) == sum(p.numel() for p in small.parameters())  # the formula is right
conv = nn.Conv2d(3, 64, kernel_size=3)
print(f"dense 256x256x3 -> 1000 units: {dense_params(256, 256, 3, 1000):,} parameters")
print(f"conv 3 -> 64 channels, 3x3:    {sum(p.numel() for p in conv.parameters()):,} parameters, for any image size")

# %% [markdown]
# About 197 million weights, before the network has learned anything about edges. A convolution instead
# uses three ideas:
#
# - **local connectivity**: each output looks only at a small window (here 3×3) of the input;
# - **weight sharing**: the same small filter slides over every position, so its parameter count does not grow
#   with the image;
# - **translation equivariance**: because the filter is the same everywhere, shifting the image shifts the
#   feature map by the same amount. We can check that exactly (circular padding makes the borders wrap, so the
#   shift is exact everywhere):

# %%
x = ds.X_test[:4]
w = torch.randn(8, 1, 3, 3, generator=generator)


def circular_conv(x, w):
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), w)


shift = lambda t: torch.roll(t, shifts=(3, 5), dims=(-2, -1))  # noqa: E731 - 3 pixels down, 5 right
difference = (circular_conv(shift(x), w) - shift(circular_conv(x, w))).abs().max().item()
print(f"max |conv(shift(x)) - shift(conv(x))| = {difference:.1e}")
assert difference < 1e-5

# %% [markdown]
# ## 2. The convolution sum
#
# A conv layer with $C_\text{in}$ input channels and $C_\text{out}$ filters of size $k\times k$ computes, for each
# example $n$, output channel $o$ and position $(i, j)$,
#
# $$\text{out}[n, o, i, j] = b[o] + \sum_{c=0}^{C_\text{in}-1}\sum_{u=0}^{k-1}\sum_{v=0}^{k-1}
#   x[n, c,\; i s + u,\; j s + v]\; w[o, c, u, v],$$
#
# where $s$ is the stride and $x$ has already been padded. Each filter produces one *feature map*; stacking the
# $C_\text{out}$ maps gives the output's channels. (Deep-learning libraries compute this cross-correlation and call
# it convolution; flipping the kernel would change nothing that is learned.) Here is that sum, written with two
# loops over output positions:

# %%
def conv2d_loops(x, w, b=None, stride=1, padding=0):
    """The convolution sum, one output position at a time."""
    x = F.pad(x, (padding,) * 4)
    N, C, H, W = x.shape
    C_out, _, k, _ = w.shape
    H_out, W_out = (H - k) // stride + 1, (W - k) // stride + 1
    out = torch.zeros(N, C_out, H_out, W_out)
    for i in range(H_out):
        for j in range(W_out):
            patch = x[:, :, i * stride : i * stride + k, j * stride : j * stride + k]  # (N, C, k, k)
            out[:, :, i, j] = torch.einsum("nckl,ockl->no", patch, w)
    return out if b is None else out + b.view(1, -1, 1, 1)


# %% [markdown]
# Loops are slow. The same sum becomes one matrix product once every window is copied into a column
# (`F.unfold`, the "im2col" trick that fast libraries build on):

# %%
def conv2d_unfold(x, w, b=None, stride=1, padding=0):
    """The convolution sum as one matrix product over unfolded windows."""
    N, C, H, W = x.shape
    C_out, _, k, _ = w.shape
    H_out, W_out = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    cols = F.unfold(x, kernel_size=k, padding=padding, stride=stride)  # (N, C*k*k, H_out*W_out)
    out = (w.view(C_out, -1) @ cols).view(N, C_out, H_out, W_out)
    return out if b is None else out + b.view(1, -1, 1, 1)


# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(1)
for C_in, C_out, size, k, stride, padding in [(1, 4, 9, 3, 1, 0), (3, 5, 11, 3, 2, 1), (2, 6, 8, 5, 1, 2), (4, 2, 13, 2, 3, 1)]:
    x, w, b = torch.randn(2, C_in, size, size), torch.randn(C_out, C_in, k, k), torch.randn(C_out)
    reference = F.conv2d(x, w, b, stride=stride, padding=padding)
    for name, ours in [("loops", conv2d_loops), ("unfold", conv2d_unfold)]:
        assert torch.allclose(ours(x, w, b, stride, padding), reference, atol=1e-5), (name, k, stride, padding)
    print(f"in {C_in}x{size}x{size}, {C_out} filters {k}x{k}, stride {stride}, padding {padding}"
          f" -> out {tuple(reference.shape[1:])}: loops and unfold match F.conv2d")

# %% [markdown]
# A filter is a pattern detector. Two hand-made 3×3 filters, a vertical-edge and a horizontal-edge
# detector (Sobel), applied to one test image:

# %%
sobel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
filters = torch.stack([sobel, sobel.T])[:, None]  # (2, 1, 3, 3): vertical and horizontal edges
image = ds.X_test[:1]
edges = conv2d_unfold(image, filters, padding=1)  # (1, 2, 28, 28)
fig = plotting.image_row(torch.cat([image[0], edges[0, :1].abs() / 4, edges[0, 1:].abs() / 4]),
                         titles=["input", "vertical edges", "horizontal edges"], size=1.6)
fig

# %% [markdown]
# ## 3. Kernel size, stride, padding (and dilation)
#
# Along one axis, a kernel of size $k$ with dilation $d$ spans $d(k-1)+1$ pixels; after padding $p$ on both
# sides and moving in steps of $s$, the output has
#
# $$H_\text{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1$$
#
# positions (with $d = 1$: $\lfloor (H + 2p - k)/s \rfloor + 1$). The floor matters when the windows do not fit
# exactly: with $H = 8$, $k = 3$, $s = 2$ the windows start at rows 0, 2, 4 and the last one reads rows 4–6, so
# row 7 is never read (a fourth window would need row 8). Two common choices have names: **valid**
# padding ($p = 0$) lets the map shrink by $k-1$; **same** padding ($p = (k-1)/2$ for odd $k$, stride 1) keeps the
# size. The table is computed by real `nn.Conv2d` layers:

# %%
print(f"{'H':>3} {'k':>2} {'s':>2} {'p':>2} {'d':>2} | {'nn.Conv2d':>9} {'formula':>8}  note")
for H, k, s, p, d, note in [(28, 3, 1, 0, 1, "valid"), (28, 3, 1, 1, 1, "same"), (28, 5, 1, 2, 1, "same"),
                            (28, 3, 2, 1, 1, "stride 2 halves"), (8, 3, 2, 0, 1, "floor: row 7 unread"),
                            (28, 3, 1, 2, 2, "dilated 'same'")]:
    measured = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, H, H)).shape[-1]
    formula = (H + 2 * p - d * (k - 1) - 1) // s + 1
    assert measured == formula
    print(f"{H:>3} {k:>2} {s:>2} {p:>2} {d:>2} | {measured:>9} {formula:>8}  {note}")

# %% [markdown]
# **Conv-arithmetic explorer.** Move the sliders: the left grid is the padded input (light: padding, blue:
# real pixels), the red squares are the taps of the kernel at one output position, and the right grid is the
# output. The *position* slider walks the window across the output; the caption shows the formula with your
# numbers. The static figure (what you see without a live kernel) draws positions 0, 1, 3 and 4 of a 7×7 input
# with padding 1 and stride 2: position 3 is the last window of the first output row, position 4 starts the
# second row two input rows lower (the stride).

# %% tags=["nbval-ignore-output"]
conv_view = views.conv_arithmetic_view(size=7, kernel=3, stride=2, padding=1, dilation=1)
widgets.show(conv_view, views.conv_arithmetic_figure(size=7, kernel=3, stride=2, padding=1, dilation=1, positions=(0, 1, 3, 4)))

# %% [markdown]
# ## 4. Pooling
#
# Pooling summarizes each window by one number and has no parameters: **max pooling** keeps the strongest
# response, **average pooling** the mean, and **global average pooling** averages each whole feature map into a
# single number per channel (so a network can end without a large dense layer).

# %%
# NBVAL_CHECK_OUTPUT
fmap = torch.tensor([[1.0, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 2], [2, 2, 0, 7]])[None, None]
print("max pool 2x2:\n", F.max_pool2d(fmap, 2)[0, 0])
print("average pool 2x2:\n", F.avg_pool2d(fmap, 2)[0, 0])
print("global average pool of a (B, C, H, W) = (8, 64, 7, 7) tensor:",
      tuple(nn.AdaptiveAvgPool2d(1)(torch.zeros(8, 64, 7, 7)).shape))

# %% [markdown]
# A max over a window does not change when its strongest input moves *within* the window: pooling trades exact
# position for a little **translation invariance**. Section 8 measures how much of it a trained network has.
#
# **Receptive field.** One unit deep in a network depends on a window of input pixels, its *receptive field*.
# Each layer of kernel $k$ (dilation $d$) widens it by $d(k-1)$ times the current *jump* $j$ (the input-pixel
# distance between neighbouring units), and each stride $s$ multiplies the jump: $r \leftarrow r + d(k-1)j$,
# $j \leftarrow js$. For the CNN of section 5 (conv 3×3, pool 2×2, three times):

# %%
cnn_layers = [("conv 3x3", (3, 1)), ("pool 2x2", (2, 2))] * 3
fields = views.receptive_field([layer for _, layer in cnn_layers])
for (name, _), (r, j) in zip(cnn_layers, fields):
    print(f"after {name}: receptive field {r:>2}x{r:<2}  jump {j}")
print("dilated 3x3 convs with d = 1, 2, 4:", views.receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]))

# %%
fig = views.receptive_field_figure(ds.X_test[0], {"block 1": fields[1][0], "block 2": fields[3][0],
                                                  "block 3": fields[5][0]})
fig

# %% [markdown]
# A unit after block 3 sees 22×22 of the 28×28 pixels: almost the whole garment, which is why three blocks
# suffice here. Dilation widens the field without adding weights or losing resolution (3 + 4 + 8 = 15 pixels from
# three 3×3 convs), which is what it is for.
#
# **1×1 convolutions.** A kernel of size 1 sees one pixel, so it mixes only *channels*: at every position it
# applies the same linear map $C_\text{in} \to C_\text{out}$. It changes the channel count cheaply (GoogLeNet's
# "1×1 reductions" and ResNet's bottleneck and projection shortcuts, section 7 and exercise 3, use it):

# %%
one_by_one = nn.Conv2d(64, 16, kernel_size=1, bias=False)
x = torch.randn(2, 64, 7, 7)
per_pixel = torch.einsum("oc,nchw->nohw", one_by_one.weight[:, :, 0, 0], x)  # the same matrix at every pixel
print("1x1 conv == per-pixel matrix product over channels:", torch.allclose(one_by_one(x), per_pixel, atol=1e-5))
print(f"parameters: 1x1 conv 64->16: {one_by_one.weight.numel():,}   3x3 conv 64->16: {64 * 16 * 9:,}")

# %% [markdown]
# ## 5. An MLP baseline versus a small CNN
#
# Both models get the same data and the same recipe, `recipe.train_classifier` in `course_utils.cnn` (so the
# course benchmark can train exactly what you see). One setting differs: the MLP's peak learning rate is half the
# CNN's (`mlp_lr` against `lr` in the configuration). It was set by hand when the chapter was written and is not
# tuned against the CNN's, so read the comparison as "each model with a reasonable rate", not as a tuned race.
#
# - **SGD with Nesterov momentum**: momentum keeps a running direction $v \leftarrow 0.9v + g$; Nesterov's variant
#   evaluates the gradient one momentum step ahead, which damps overshooting.
# - **weight decay** $5\cdot10^{-4}$: each step also shrinks every weight a little (an L2 penalty).
# - **one-cycle learning rate**: the rate rises from small to its peak over the first quarter of training, then
#   anneals to almost zero; high rates explore, the low final rates settle.
# - **label smoothing 0.1**: the target is 0.91 for the true class and 0.01 for each other class instead of 1 and 0,
#   so the model is not pushed towards infinite confidence. The price: the loss can never reach 0 (its floor here
#   is about 0.5, printed below), so read accuracy, not loss, as the score.
# - **augmentation**: random horizontal flips of the training images.
# - **speed**: `channels_last` stores each pixel's channels next to each other in memory, the layout fast CPU
#   convolution kernels want; where the CPU has native bfloat16 units, forward passes run in bfloat16 (*mixed
#   precision*: 16-bit numbers with float32's range, while the weights stay float32).
#
# Pixels are standardized by the model's first layer (`models.Normalize`: mean 0.286, std 0.353 of the training
# set), so every caller can feed plain [0, 1] images. The test set is only measured after each epoch (the `val_*`
# records), never used to pick an epoch or a setting. The chapter does not measure which of these parts matter
# most (each one is standard; removing one at a time would cost a three-minute run each).

# %%
show_source(recipe.train_classifier)
smoothed = torch.full((10,), 0.1 / 10) + 0.9 * F.one_hot(torch.tensor(0), 10)
loss_floor = -(smoothed * smoothed.log()).sum().item()  # the loss of a model that predicts the target exactly
print(f"lowest possible loss with label smoothing 0.1: {loss_floor:.3f}; bfloat16 on this CPU: {recipe.bf16_supported()}")


# %% [markdown]
# The baseline flattens each image into 784 numbers and uses two hidden layers:

# %%
mlp = models.MLP(hidden_dims=(256, 128))
print(mlp)
print(f"MLP parameters: {train.count_parameters(mlp):,}")

# %%
mlp_history = recipe.train_classifier(mlp, ds.X_train, ds.y_train, ds.X_test, ds.y_test, num_epochs=cfg.mlp_epochs,
                                      lr=cfg.mlp_lr, batch_size=cfg.batch_size, device=device, transform=augment.random_flip)
fig = views.plot_training(mlp_history, title="MLP 784-256-128-10 on Fashion-MNIST")
fig

# %% [markdown]
# Two things in these curves are the recipe, not the model. The loss levels off far above 0 because of label
# smoothing (its floor is printed above). And in the first epoch the training accuracy is *below* the test
# accuracy: the training number is a running average over the epoch, so it includes the first, bad batches, and
# it is measured with dropout on and on flipped images; the test number is measured once, at the end, without
# either.

# %%
results.claim("in the first epoch the training accuracy is below the test accuracy",
              mlp_history["train_acc"][0] < mlp_history["val_acc"][0],
              detail=f"train {mlp_history['train_acc'][0]:.3f}, test {mlp_history['val_acc'][0]:.3f}")
_ = results.claim("The loss levels off far above 0 because of label smoothing",
                  min(mlp_history["val_loss"]) > loss_floor > 0.3,
                  detail=f"lowest test loss {min(mlp_history['val_loss']):.3f}, floor {loss_floor:.3f}")

# %% [markdown]
# The CNN stacks three blocks of conv 3×3 → batch norm → ReLU → max pool 2×2, halving the image each time
# (28 → 14 → 7 → 3) while the channels grow (32 → 64 → 256), then one linear layer. The last block is the widest
# because width is cheapest there: its conv runs at 7×7 positions, a quarter of block 2's 14×14, so a channel pair
# costs a quarter as much arithmetic (and the classifier reads 256 features at each of the 3×3 places). Batch norm
# standardizes each channel over the batch, which lets a high learning rate train stably; the conv before it needs
# no bias because batch norm has its own. The model lives in `course_utils.cnn.models` because chapter 04 reuses
# the class (its scoring classifier keeps the default widths 32-64-128). It ends with
# `Flatten → Linear(256·3·3 → 10)`, not with global average pooling: the classifier sees *where* in the 3×3 grid
# each feature is.

# %%
show_source(models.conv_block)
show_source(models.FashionCNN)

# %%
# NBVAL_CHECK_OUTPUT
cnn = models.FashionCNN(channels=(32, 64, 256))
x = torch.zeros(2, 1, 28, 28)
for name, layer in [("block 1", cnn.features[:2]), ("block 2", cnn.features[:3]), ("block 3", cnn.features)]:
    print(f"{name}: {tuple(layer(x).shape)}")
print("logits:", tuple(cnn(x).shape))
print(f"CNN parameters: {train.count_parameters(cnn):,}")

# %%
cnn_history = recipe.train_classifier(cnn, ds.X_train, ds.y_train, ds.X_test, ds.y_test, num_epochs=cfg.cnn_epochs,
                                      lr=cfg.lr, batch_size=cfg.batch_size, device=device, transform=augment.random_flip)
fig = views.plot_training(cnn_history, title="CNN 32-64-256 on Fashion-MNIST")
fig

# %%
def test_accuracy(model, X, y, device):
    logits = train.predict(model, X.contiguous(memory_format=torch.channels_last).to(device))
    return (logits.argmax(1).cpu() == y).float().mean().item()


scores = {}
for name, model, history in [("MLP 784-256-128-10", mlp, mlp_history), ("CNN 32-64-256", cnn, cnn_history)]:
    scores[name] = {"parameters": train.count_parameters(model), "test accuracy": test_accuracy(model, ds.X_test, ds.y_test, device),
                    "training seconds": sum(history["seconds"])}
print(f"{'model':<20} {'parameters':>10} {'test acc':>9} {'train time':>11}")
for name, r in scores.items():
    print(f"{name:<20} {r['parameters']:>10,} {r['test accuracy']:>9.2%} {r['training seconds']:>10.0f}s")
mlp_score, cnn_score = scores["MLP 784-256-128-10"], scores["CNN 32-64-256"]

# %% [markdown]
# Read the table: the CNN has fewer parameters than the MLP, and it is the more accurate of the two, because its
# weights are spent on local patterns reused at every position rather than on one weight per pixel and unit. It
# also costs more computation per image: each filter is applied at every position. (In smoke mode both saw only
# 2,000 images for one epoch, so the numbers are far lower.)

# %%
_ = results.claim("the CNN has fewer parameters than the MLP, and it is the more accurate of the two",
                  cnn_score["parameters"] < mlp_score["parameters"] and cnn_score["test accuracy"] > mlp_score["test accuracy"],
                  detail=f"CNN {cnn_score['parameters']:,} / {cnn_score['test accuracy']:.2%}, "
                         f"MLP {mlp_score['parameters']:,} / {mlp_score['test accuracy']:.2%}")

# %% [markdown]
# **Batch norm in training and at test time.** In training mode a batch-norm layer standardizes each channel with
# the mean and variance *of the current batch*, and keeps running averages of them. `model.eval()` (which
# `train.fit` calls at the end, and `train.predict` uses) switches it to those stored running statistics, so a
# test image's prediction no longer depends on which other images share its batch. We feed test image 0 in two
# different batches, in both modes, to a copy of the trained CNN (training mode would update the real one's
# running statistics):

# %%
import copy

probe_cnn = copy.deepcopy(cnn).cpu()
batch_a, batch_b = ds.X_test[:64], torch.cat([ds.X_test[:1], ds.X_test[500:563]])  # both start with test image 0
with torch.no_grad():
    outputs = {}
    for mode in ("train", "eval"):
        probe_cnn.eval()  # dropout off in both cases: only batch norm's mode changes
        for m in probe_cnn.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.train(mode == "train")
        outputs[mode] = (probe_cnn(batch_a)[0] - probe_cnn(batch_b)[0]).abs().max().item()
bn = probe_cnn.features[1][1]
print(f"first batch norm: running mean of channels 0-2 {bn.running_mean[:3].tolist()}")
for mode, diff in outputs.items():
    print(f"{mode} mode: image 0's logits differ between the two batches by up to {diff:.2e}")

# %%
_ = results.claim("in training mode the prediction depends on the other images in the batch; in eval mode it does not",
                  outputs["train"] > 1e-3 and outputs["eval"] < 1e-4, detail=f"{outputs}")

# %% [markdown]
# Where does the CNN still go wrong? The confusion matrix shows which classes it mixes up:

# %%
y_pred = train.predict(cnn, ds.X_test.contiguous(memory_format=torch.channels_last).to(device)).argmax(1).cpu()
fig = plotting.plot_confusion_matrix(ds.y_test, y_pred, ds.classes, title="CNN on the test set (rows sum to 1)")
fig

# %%
upper_body = torch.tensor([ds.classes.index(c) for c in ("T-shirt/top", "Pullover", "Coat", "Shirt")])
is_upper = lambda labels: torch.isin(labels, upper_body)  # noqa: E731
wrong = y_pred != ds.y_test
upper_share = (wrong & is_upper(ds.y_test) & is_upper(y_pred)).sum().item() / max(1, wrong.sum().item())
print(f"{wrong.sum().item()} test errors; {upper_share:.0%} of them confuse two upper-body garments")
shirts = (wrong & (ds.y_test == ds.classes.index("Shirt"))).nonzero()[:8, 0]  # errors on true shirts
fig = plotting.image_row(ds.X_test[shirts], titles=[f"{ds.classes[int(y_pred[i])]}\n(is {ds.classes[int(ds.y_test[i])]})"
                                                    for i in shirts], size=1.3)
fig

# %% [markdown]
# Most mistakes are between the upper-body garments (shirt, T-shirt, pullover, coat), which look alike even to
# people at 28×28 pixels. The row above shows the first eight shirts the CNN got wrong: each title is the
# prediction, with the true class below it.

# %%
_ = results.claim("Most mistakes are between the upper-body garments", upper_share > 0.5,
                  detail=f"{upper_share:.1%} of the errors")
#
# ## 6. Landmark architectures
#
# The CNN above is small; the architectures that made CNNs famous are the same idea at scale, each adding one
# thing. Parameter counts below come from code: LeNet-5 is written out here, the others are torchvision's
# definitions built on the `meta` device (shapes only, no memory and no download).

# %%
import torchvision

lenet5 = nn.Sequential(  # LeCun et al. 1998, for 32x32 digits, simplified (see below)
    nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),   # (B, 6, 14, 14)
    nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),  # (B, 16, 5, 5)
    nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
)
with torch.device("meta"):
    landmark = {"AlexNet": torchvision.models.alexnet(), "VGG-16": torchvision.models.vgg16(),
                "GoogLeNet": torchvision.models.googlenet(aux_logits=False, init_weights=False),
                "ResNet-50": torchvision.models.resnet50(), "ResNet-152": torchvision.models.resnet152()}
param_millions = {"LeNet-5": train.count_parameters(lenet5) / 1e6}
param_millions |= {name: train.count_parameters(m) / 1e6 for name, m in landmark.items()}
for name, m in param_millions.items():
    print(f"{name:<11} {m:8.2f} M parameters")

# %% [markdown]
# | model | year | what it introduced | headline result (from the paper) |
# |---|---|---|---|
# | LeNet-5 | 1998 | conv → subsampling stacks trained end to end with backpropagation | about 1 % test error on MNIST digits (0.95 %) |
# | AlexNet | 2012 | a deep CNN on GPUs with ReLU, dropout and data augmentation | ILSVRC-2012 top-5 error 15.3 %, against 26.2 % for the runner-up |
# | VGG | 2014 | depth from uniform stacks of 3×3 convolutions (16–19 layers) | ILSVRC-2014 top-5 error 7.3 % (2nd in classification) |
# | GoogLeNet / Inception | 2014 | Inception modules: parallel 1×1, 3×3, 5×5 branches with 1×1 reductions; 22 layers, few parameters | ILSVRC-2014 winner, top-5 error 6.7 % |
# | ResNet | 2015 | residual (skip) connections that make 100+ layer networks trainable | ILSVRC-2015 winner, top-5 error 3.57 % (an ensemble of ResNets of several depths, up to 152 layers) |
#
# ILSVRC is the ImageNet Large Scale Visual Recognition Challenge (1.2 million training photos, 1,000 classes);
# *top-5 error* counts an image as wrong only when the true class is not among the model's five highest-scoring
# classes. The LeNet-5 written above is the common modern simplification: every C3 map sees all six S2 maps
# (the paper connected only chosen subsets), the subsampling layers are plain average pools (the paper's had a
# trainable coefficient and bias each), and the output is a linear layer (the paper used RBF units).
#
# Note the trend the printed counts show: VGG-16 is the heaviest by far because of its dense layers, while
# GoogLeNet and ResNet replace those with global average pooling. (LeNet-5 is an MNIST model, not an ImageNet one.)
#
# ## 7. Going deep: residual connections
#
# Stacking more conv layers should never hurt in principle: the extra layers could learn the identity. Yet He et
# al. (2016) found that deeper *plain* stacks reach a *higher training error* than shallower ones, even with batch
# norm. They called this **degradation**. It is not overfitting (the training error itself is worse), and they argue
# it is not a vanishing gradient either: with batch norm the plain nets' gradients "exhibit healthy norms". It is
# an *optimisation* difficulty: the solver finds the identity-like solutions of deep plain stacks hard to reach. A
# **residual block** computes $\text{relu}(x + F(x))$: if the identity is near-optimal, $F$ only has to learn a
# small correction towards 0, and the identity path carries signal and gradient past $F$. A block with two 3×3
# convolutions and no 1×1 reduction is a *basic* block (ResNet-50 and deeper use *bottleneck* blocks of 1×1 → 3×3
# → 1×1). The conv layers before batch norm have no bias, as in section 5.

# %%
class PlainBlock(nn.Module):
    """conv-BN-ReLU-conv-BN-ReLU, channels and size unchanged."""

    def __init__(self, channels, batch_norm=True):
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.f = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm(), nn.ReLU(),
                               nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm), norm())

    def forward(self, x):
        return torch.relu(self.f(x))


class BasicBlock(PlainBlock):
    """The same layers plus the skip connection: relu(x + F(x))."""

    def forward(self, x):
        return torch.relu(x + self.f(x))


# %% [markdown]
# The network builder: a strided stem takes the image to 16 channels at 7×7, then `num_blocks` blocks and a
# global-average-pooled linear head. `he_init=True` re-initialises every conv with **He (Kaiming) initialisation**:
# weights drawn with variance $2/\text{fan\_in}$ (fan_in = $C_\text{in} k^2$), which keeps the scale of the signal
# through a ReLU layer, because a ReLU zeroes half of it. PyTorch's default conv init draws variance
# $1/(3\,\text{fan\_in})$, six times smaller, so without batch norm every layer shrinks the signal.

# %%
def deep_net(block, num_blocks, width=16, batch_norm=True, he_init=False):
    net = nn.Sequential(models.Normalize(), nn.Conv2d(1, width, 3, stride=2, padding=1), nn.ReLU(),  # (B, 16, 14, 14)
                        nn.MaxPool2d(2),                                                             # (B, 16, 7, 7)
                        *[block(width, batch_norm) for _ in range(num_blocks)],
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))
    if he_init:
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return net


print("weight variance x fan_in:", {name: round(deep_net(PlainBlock, 1, he_init=he)[4].f[0].weight.var().item() * 16 * 9, 2)
                                    for name, he in [("PyTorch default", False), ("He", True)]})

# %% [markdown]
# We measure the norm of the loss gradient at the first conv layer, at initialization, for nets of 2 to 32
# blocks (5 to 65 layers): with batch norm, and without it under PyTorch's default init and under He init,
# averaged over three random initializations (a norm that underflows to exactly 0 is drawn at 10⁻³⁰):

# %%
X_probe, y_probe = ds.X_train[:128], ds.y_train[:128]
depths = [2, 4, 8, 16, 32]
variants = {"with batch norm": dict(batch_norm=True), "no batch norm, default init": dict(batch_norm=False),
            "no batch norm, He init": dict(batch_norm=False, he_init=True)}
grad_norms = {}
for variant, options in variants.items():
    for block in (PlainBlock, BasicBlock):
        norms = []
        for num_blocks in depths:
            per_seed = []
            for seed in range(3):
                torch.manual_seed(seed)
                net = deep_net(block, num_blocks, **options)
                F.cross_entropy(net(X_probe), y_probe).backward()
                per_seed.append(net[1].weight.grad.norm().item())
            norms.append(sum(per_seed) / len(per_seed))
        grad_norms[(block.__name__, variant)] = norms

# %%
fig, ax = plotting.new_figure(figsize=(7, 4))
colours, styles = {"PlainBlock": "#1f77b4", "BasicBlock": "#d62728"}, dict(zip(variants, ["-", "--", ":"]))
for (name, variant), norms in grad_norms.items():
    ax.plot([2 * d + 1 for d in depths], [max(n, 1e-30) for n in norms], marker="o", color=colours[name],
            ls=styles[variant], lw=2, label=f"{'residual' if name == 'BasicBlock' else 'plain'}, {variant}")
ax.set(xscale="log", yscale="log", xlabel="conv layers", ylabel="‖∂L/∂W‖ at the first layer",
       title="Gradient reaching the first layer at initialization (colour: architecture, line: variant)")
ax.title.set_fontsize(10)
ax.set_xticks([2 * d + 1 for d in depths], [str(2 * d + 1) for d in depths])
ax.minorticks_off()
ax.legend(fontsize=8, loc="lower left")
fig

# %%
for (name, variant), norms in grad_norms.items():
    print(f"{name:<10} {variant:<28} " + " ".join(f"{d:>2}: {n:8.2e}" for d, n in zip(depths, norms)))
g = {key: dict(zip(depths, norms)) for key, norms in grad_norms.items()}

# %% [markdown]
# Read the three line styles in turn.
#
# - **Without batch norm, default init** (dashed): the plain net's first-layer gradient collapses by many orders
#   of magnitude as layers are added. That is mostly the *initialisation*: each layer shrinks the signal.
# - **Without batch norm, He init** (dotted): the plain net's gradient stays far larger than under the default
#   init at every depth. (The residual net without batch norm now grows instead: each block *adds* a full-scale
#   $F(x)$ to $x$, so the signal's variance grows with depth; real ResNets use batch norm, or scale $F$ down.)
# - **With batch norm** (solid): at the 8 blocks of the race below, the plain and the residual net get first-layer
#   gradients of the same size (within a factor of 2). Whatever makes a deep plain net train worse there, it is
#   not a vanishing first-layer gradient. (Deeper still, at 16 and 32 blocks, the plain net's gradient with batch
#   norm *grows* with depth, an explosion at initialisation that Yang et al. 2019 analyse; the residual net's
#   stays in range.)

# %%
results.claim("the plain net's first-layer gradient collapses by many orders of magnitude as layers are added",
              g[("PlainBlock", "no batch norm, default init")][32] < 1e-3 * g[("PlainBlock", "no batch norm, default init")][2],
              detail=f"{g[('PlainBlock', 'no batch norm, default init')][2]:.2e} -> {g[('PlainBlock', 'no batch norm, default init')][32]:.2e}")
results.claim("the plain net's gradient stays far larger than under the default init at every depth",
              all(g[("PlainBlock", "no batch norm, He init")][d] > 10 * g[("PlainBlock", "no batch norm, default init")][d]
                  for d in depths[1:]), detail=f"He {g[('PlainBlock', 'no batch norm, He init')]}")
_ = results.claim("at 16 and 32 blocks the plain net's gradient with batch norm grows with depth",
                  g[("PlainBlock", "with batch norm")][32] > g[("PlainBlock", "with batch norm")][16] > g[("PlainBlock", "with batch norm")][8],
                  detail=f"{g[('PlainBlock', 'with batch norm')]}")
ratio_8 = g[("PlainBlock", "with batch norm")][8] / g[("BasicBlock", "with batch norm")][8]
_ = results.claim("at 8 blocks the plain and the residual net get first-layer gradients of the same size (within a factor of 2)",
                  0.5 < ratio_8 < 2, detail=f"plain / residual = {ratio_8:.2f}")

# %% [markdown]
# So what does go wrong? Train, with batch norm, plain nets of 3 and 12 blocks and a residual net of 12 blocks,
# three seeds each, for the same number of steps of plain SGD with momentum (the sizes stay small so this runs in
# seconds; `quick_train` is a bare training loop):

# %%
def quick_train(net, X, y, steps, lr=0.05, batch_size=128, seed=0):
    """Plain SGD on random batches of (X, y); returns the loss of every step."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(X), (batch_size,), generator=g)
        loss = F.cross_entropy(net(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# %%
race = {}
for label, block, num_blocks in [("plain, 3 blocks", PlainBlock, 3), ("plain, 12 blocks", PlainBlock, 12),
                                 ("residual, 12 blocks", BasicBlock, 12)]:
    race[label] = []
    for seed in range(cfg.deep_seeds):
        torch.manual_seed(seed)
        race[label].append(quick_train(deep_net(block, num_blocks), ds.X_train, ds.y_train, cfg.deep_steps, seed=seed))

# %%
fig, ax = plotting.new_figure(figsize=(7, 3.4))
smooth = lambda v, n=10: [sum(v[max(0, i - n + 1): i + 1]) / len(v[max(0, i - n + 1): i + 1]) for i in range(len(v))]  # noqa: E731
race_colours = {"plain, 3 blocks": "#9ecae1", "plain, 12 blocks": "#1f77b4", "residual, 12 blocks": "#d62728"}
for label, runs in race.items():
    for i, losses in enumerate(runs):
        ax.plot(smooth(losses), color=race_colours[label], lw=1.5, alpha=0.8, label=label if i == 0 else None)
ax.set(xlabel="training step", ylabel="training loss (moving average of 10)",
       title="Deep nets with batch norm, one line per seed")
ax.legend(fontsize=8)
final_loss = {label: [sum(r[-20:]) / len(r[-20:]) for r in runs] for label, runs in race.items()}
for label, losses in final_loss.items():
    print(f"{label:<20} mean loss over the last 20 steps, per seed: " + "  ".join(f"{v:.3f}" for v in losses))
fig

# %% [markdown]
# Degradation, measured: the 12-block plain net ends at a *higher* training loss than the 3-block plain net, on
# average over the seeds, although it has four times the blocks and could copy the shallow net by making the
# extra blocks identities. With skip connections, 12 blocks train to a lower loss than 12 plain blocks. The
# first-layer gradients at this kind of depth were of the same size, so the skip helps the *optimisation*, as He
# et al. argue, rather than rescuing a vanished signal. (Three seeds and a short run: a demonstration, not a
# benchmark; the gap between the seeds in the figure is the uncertainty.)

# %%
mean = {label: sum(v) / len(v) for label, v in final_loss.items()}
results.claim("the 12-block plain net ends at a higher training loss than the 3-block plain net, on average over the seeds",
              mean["plain, 12 blocks"] > mean["plain, 3 blocks"], detail=f"{mean}")
_ = results.claim("With skip connections, 12 blocks train to a lower loss than 12 plain blocks",
                  mean["residual, 12 blocks"] < mean["plain, 12 blocks"], detail=f"{mean}")

# %% [markdown]
# ## 8. Looking inside the trained CNN
#
# The first layer's 32 filters are 3×3 weight patterns, drawn below on one shared colour scale (red positive, blue
# negative, so signs and strengths compare across filters). At 3×3 there is little room for a pattern: look for
# filters with a positive and a negative side (a difference of neighbouring pixels, as in the Sobel filters of
# section 2) and filters that are mostly one sign (brightness). We do not claim more than the picture shows; the
# filters of AlexNet's first layer (11×11 on colour photos) are the famous clear edge detectors.

# %%
fig = views.plot_filters_signed(cnn.features[1][0].weight, ncols=16, title="CNN 32-64-256: the 32 first-layer filters (3×3)")
fig

# %% [markdown]
# **Feature-map viewer.** Pick a test image and a block; you see the first 16 channels that block outputs.
# Early maps still look like the garment (edges, light and dark regions); after three blocks they are 3×3 summaries
# that only the classifier can read. The maps for 16 test images are computed once, so the slider is instant. (The
# live viewer scales each map to its own range; the static figure below uses one colour scale per block, shown by
# its colourbar, so maps of the same block compare.)

# %%
show_source(views.collect_feature_maps)  # forward hooks: a function PyTorch calls with each layer's output

# %%
blocks = {"block 1 (32 × 14 × 14)": cnn.features[1], "block 2 (64 × 7 × 7)": cnn.features[2],
          "block 3 (256 × 3 × 3)": cnn.features[3]}
viewer_images = ds.X_test[:16]
feature_maps = views.collect_feature_maps(cnn, blocks, viewer_images.to(device))
viewer_titles = [ds.classes[int(c)] for c in ds.y_test[:16]]

# %% tags=["nbval-ignore-output"]
feature_view = views.feature_map_view(feature_maps, viewer_images, viewer_titles)
static = views.plot_feature_map_grid(feature_maps, index=0, n_channels=8,
                                     title=f"CNN 32-64-256: first 8 channels of each block, test image 0 ({viewer_titles[0]})")
widgets.show(feature_view, static)

# %% [markdown]
# How does the network respond to small shifts? We move every test image right by one pixel, and by two, and
# measure the relative change $\lVert f(\text{shifted}) - f(x)\rVert / \lVert f(x)\rVert$ of the pixels, of each
# block's output, of block 3's output averaged over positions, and of the predicted class:

# %%
@torch.no_grad()
def relative_change(a, b):
    return ((a - b).flatten(1).norm(dim=1) / a.flatten(1).norm(dim=1)).mean().item()


X_probe = ds.X_test[:500]
before = views.collect_feature_maps(cnn, blocks, X_probe.to(device))
change, last = {}, list(blocks)[-1]
for shift in (1, 2):
    X_shifted = torch.roll(X_probe, shifts=shift, dims=-1)
    after = views.collect_feature_maps(cnn, blocks, X_shifted.to(device))
    change[("pixels", shift)] = relative_change(X_probe, X_shifted)
    change |= {(name, shift): relative_change(before[name], after[name]) for name in blocks}
    change[("block 3, averaged over positions", shift)] = relative_change(before[last].mean((2, 3)), after[last].mean((2, 3)))
    same = train.predict(cnn, X_probe.to(device)).argmax(1) == train.predict(cnn, X_shifted.to(device)).argmax(1)
    change[("predicted class changed (fraction)", shift)] = 1 - same.float().mean().item()
rows = list(dict.fromkeys(name for name, _ in change))
print(f"{'':<36} {'1 px':>6} {'2 px':>6}")
for name in rows:
    print(f"{name:<36} {change[(name, 1)]:>6.2f} {change[(name, 2)]:>6.2f}")

# %% [markdown]
# Compare the rows. Every block's output changes by about as much as the pixels do, or more: pooling alone does
# not make these maps shift-robust. Part of that is simply equivariance (a shifted map is a different tensor), but
# not all of it. Each block ends with a stride-2 pool, so a 1-pixel shift of the image is a *half*-pixel shift of
# block 1's 14×14 output, and no shifted copy of the old map exists on that grid. Exact equivariance holds only for
# shifts that are multiples of the total stride (Azulay & Weiss 2019, Zhang 2019). The cell below tests exactly
# that: it compares block 1's output for the shifted image with the old output moved by one pixel of its grid.

# %%
b1 = list(blocks)[0]
nearest_copy = {}
for shift in (1, 2):
    after_b1 = views.collect_feature_maps(cnn, {b1: blocks[b1]}, torch.roll(X_probe, shifts=shift, dims=-1).to(device))[b1]
    nearest_copy[shift] = min(relative_change(torch.roll(before[b1], shifts=m, dims=-1), after_b1) for m in (0, 1))
    print(f"shift {shift} px: block 1's output differs from the nearest shifted copy of the old output by {nearest_copy[shift]:.2f}")

# %% [markdown]
# A 2-pixel shift is a whole-pixel shift of block 1's output: the new output is much closer to the old one moved
# by one pixel (the image borders keep it from exact). A 1-pixel shift matches no shifted copy. What is clearly less sensitive than the pixels is a
# summary that forgets *where*: block 3 averaged over its positions, and the predicted class (this CNN does not use
# that average; its linear head reads the 3×3 grid, so the class's robustness is learned, not built in).

# %%
results.claim("Every block's output changes by about as much as the pixels do, or more",
              all(change[(name, 1)] >= 0.85 * change[("pixels", 1)] for name in blocks), detail=f"{change}")
results.claim("A 2-pixel shift is a whole-pixel shift of block 1's output; a 1-pixel shift matches no shifted copy",
              nearest_copy[2] < 0.5 * nearest_copy[1], detail=f"{nearest_copy}")
_ = results.claim("What is clearly less sensitive is a summary that forgets where",
                  change[("block 3, averaged over positions", 1)] < 0.8 * change[("pixels", 1)]
                  and change[("predicted class changed (fraction)", 1)] < 0.2, detail=f"{change}")

# %% [markdown]
#
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | dense layers on images | one weight per pixel and unit: hundreds of millions of parameters, no notion of locality |
# | convolution | a small filter slid over the image: local, shared weights, translation-equivariant |
# | output size | $\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1$; "same" padding keeps the size, "valid" shrinks it |
# | pooling | parameter-free downsampling; max/average; global average pooling replaces big dense heads |
# | compact CNN | conv → batch norm → ReLU → pool blocks, channels up as resolution goes down |
# | receptive field | $r \leftarrow r + d(k-1)j$, $j \leftarrow js$: strides and dilation widen it fast |
# | 1×1 convolution | a per-pixel linear map over channels: changes the channel count cheaply |
# | batch norm | batch statistics in training, running statistics after `model.eval()` |
# | depth | without batch norm, the init decides whether the gradient survives (He init keeps its scale); with batch norm, deep plain stacks still train worse than shallow ones (degradation), and skips fix the optimisation |
# | inside the network | 3×3 first-layer filters: differences and brightness; deeper maps are coarse and abstract; the maps are *not* shift-robust (stride-2 pooling breaks exact equivariance), the position average and the class are |
#
# The numbers this run produced:

# %%
print(f"MLP test accuracy: {mlp_score['test accuracy']:.2%} with {mlp_score['parameters']:,} parameters")
print(f"CNN test accuracy: {cnn_score['test accuracy']:.2%} with {cnn_score['parameters']:,} parameters, "
      f"{cnn_score['training seconds']:.0f} s of training on {device} ({torch.get_num_threads()} threads)")

# Headline numbers for the course benchmarks (stored only when COURSE_RESULTS names a file).
results.record("cnn_test_accuracy", cnn_score["test accuracy"], unit="fraction")
results.record("cnn_train_seconds", cnn_score["training seconds"], unit="s")
results.record("mlp_test_accuracy", mlp_score["test accuracy"], unit="fraction")

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: "same" padding with dilation.** Write `same_padding(k, d)`: the padding $p$ (on each side) that makes
# a stride-1 convolution with kernel $k$ and dilation $d$ keep the input size, or `None` when no such $p$ exists.
# Start from the output-size formula of section 3, set $H_\text{out} = H$ and solve for $p$; then ask when the
# answer is not a whole number. The check runs `F.conv2d` with your padding for many $(k, d)$.

# %% jupyter={"source_hidden": true} tags=["solution"]
def same_padding(k, d=1):
    span = d * (k - 1)  # H + 2p - d(k-1) - 1 + 1 = H  <=>  2p = d(k-1)
    return span // 2 if span % 2 == 0 else None


print({(k, d): same_padding(k, d) for k in (2, 3, 5) for d in (1, 2)})

# %%
checks.check_same_padding(same_padding)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer sets $H + 2p - d(k-1) - 1 + 1 = H$, gets $p = d(k-1)/2$, and
# returns `None` when $d(k-1)$ is odd (an even kernel with odd dilation: its span $d(k-1)+1$ is even, so it has no
# centre pixel). The solution prints `{(2, 1): None, (2, 2): 1, (3, 1): 1, (3, 2): 2, (5, 1): 2, (5, 2): 4}` and the
# check passes on 24 pairs. Full: formula derived, `None` case handled and explained. Most: correct code, no
# explanation of the `None` case. Partial: `(k - 1) // 2` (ignores dilation; the check names it) or returns a
# float. None: retypes the output-size formula without solving for $p$.

# %% [markdown]
# **Exercise 2: stride instead of pooling.** Build `strided_cnn`: the same three blocks as `FashionCNN`, but
# each conv downsamples itself with `stride=2` and there is no pooling layer (the sizes must still go
# 28 → 14 → 7 → 3, so pick the last block's padding accordingly). Then train it and a `FashionCNN` on the same
# subset and compare parameters, accuracy and time: which is cheaper, and what does it cost?

# %% jupyter={"source_hidden": true} tags=["solution"]
def strided_block(in_channels, out_channels, padding=1):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=padding, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


strided_cnn = nn.Sequential(models.Normalize(),
                            strided_block(1, 32),              # (B, 32, 14, 14)
                            strided_block(32, 64),             # (B, 64, 7, 7)
                            strided_block(64, 128, padding=0),  # (B, 128, 3, 3)
                            nn.Flatten(), nn.Dropout(0.2), nn.Linear(128 * 9, 10))

n = cfg.exercise_n_train
comparison = {}
for name, model in [("pooling", models.FashionCNN()), ("stride 2", strided_cnn)]:
    torch.manual_seed(cfg.seed)
    h = recipe.train_classifier(model, ds.X_train[:n], ds.y_train[:n], ds.X_test, ds.y_test, num_epochs=2, lr=cfg.lr,
                                batch_size=cfg.batch_size, device=device)
    comparison[name] = (train.count_parameters(model), h["val_acc"][-1], sum(h["seconds"]) / len(h))
for name, (params, acc, sec) in comparison.items():
    print(f"{name:<9} {params:>8,} parameters   test acc {acc:.2%}   {sec:.1f} s/epoch on {n:,} images")

# %%
checks.check_strided_cnn(strided_cnn, models.FashionCNN())

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer builds three stride-2 conv blocks without pooling (padding 0 in
# the last one so that 7 → 3), passes the check, trains both models and compares parameters (equal: 104,426
# each), seconds per epoch (the strided model is several times faster, as the printed table shows) and accuracy
# after two epochs on 12,000 images (close; either can come out ahead, and one seed cannot rank them). Full: all
# three compared with the reason for the speed (each conv computes four times fewer positions). Most: the numbers
# without the reason. Partial: the model passes the check but nothing is compared. None: the check fails. A
# written claim that one model is *more accurate* is not supported by one short run.

# %% [markdown]
# Same parameters (a strided conv has the same weights as the conv it replaces) and several times less
# computation, because each conv runs at the lower resolution instead of computing every position and then
# discarding three out of four. Accuracy after so short a run is close and either can come out ahead: pooling
# keeps the strongest response in each window, a stride-2 conv learns its own way to summarize. Many modern
# networks (ResNet's downsampling blocks among them) use strided convolutions for exactly this saving.
#
# **Exercise 3: a downsampling residual block.** Real ResNets halve the resolution and double the channels every
# few blocks, where `x + F(x)` no longer type-checks: `x` is (B, C, H, W) and `F(x)` is (B, 2C, H/2, W/2). Write
# `DownBlock(in_channels)`: $F$ is a 3×3 conv with stride 2 and 2C filters → batch norm → ReLU → 3×3 conv → batch
# norm; the shortcut is a 1×1 conv with stride 2 and 2C filters (a *projection*) → batch norm; the output is
# relu(F(x) + shortcut(x)). Then use it: build a residual net that runs 2 basic blocks at 16 channels and 14×14,
# one `DownBlock`, then 2 basic blocks at 32 channels and 7×7, and train it with `quick_train` as in section 7.

# %% jupyter={"source_hidden": true} tags=["solution"]
class DownBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        out = 2 * in_channels
        self.f = nn.Sequential(nn.Conv2d(in_channels, out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out),
                               nn.ReLU(), nn.Conv2d(out, out, 3, padding=1, bias=False), nn.BatchNorm2d(out))
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=2, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        return torch.relu(self.f(x) + self.shortcut(x))


def downsampling_resnet():
    return nn.Sequential(models.Normalize(), nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16),
                         nn.ReLU(),                                                   # (B, 16, 14, 14)
                         *[BasicBlock(16) for _ in range(2)], DownBlock(16),          # (B, 32, 7, 7)
                         *[BasicBlock(32) for _ in range(2)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


torch.manual_seed(0)
down_losses = quick_train(downsampling_resnet(), ds.X_train, ds.y_train, cfg.deep_steps)
print(f"downsampling ResNet (5 blocks) mean loss over the last 20 steps: {sum(down_losses[-20:]) / 20:.3f}; "
      f"residual 12 blocks at 7x7, seed 0: {final_loss['residual, 12 blocks'][0]:.3f}")

# %%
checks.check_down_block(DownBlock)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer has a stride-2 3×3 conv with 2C filters first in F (stride 1
# there leaves F at full size), a 1×1 stride-2 projection with batch norm as the shortcut, one ReLU after the sum,
# and builds and trains the downsampling net. The solution prints its final training loss next to the 12-block
# residual net of section 7 (seed 0); read the printed pair, and expect them to be of the same order. Full: check passes, the net trains, the two
# losses are compared with the caveat of one seed and a short run. Most: check passes, net trained, no
# comparison. Partial: the block passes but is never used. None: the check fails (it names a missing or
# stride-1 projection and a missing final ReLU).

# %% [markdown]
# ## Further reading
#
# - Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. *Gradient-based learning applied to document recognition.* Proc. IEEE, 1998 (LeNet-5).
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet classification with deep convolutional neural networks.* NIPS 2012 (AlexNet).
# - K. Simonyan, A. Zisserman. *Very deep convolutional networks for large-scale image recognition.* ICLR 2015, arXiv:1409.1556 (VGG).
# - C. Szegedy et al. *Going deeper with convolutions.* CVPR 2015, arXiv:1409.4842 (GoogLeNet).
# - K. He, X. Zhang, S. Ren, J. Sun. *Deep residual learning for image recognition.* CVPR 2016, arXiv:1512.03385 (ResNet).
# - K. He, X. Zhang, S. Ren, J. Sun. *Delving deep into rectifiers.* ICCV 2015, arXiv:1502.01852 (He initialisation).
# - S. Ioffe, C. Szegedy. *Batch normalization.* ICML 2015, arXiv:1502.03167.
# - G. Yang, J. Pennington, V. Rao, J. Sohl-Dickstein, S. Schoenholz. *A mean field theory of batch normalization.* ICLR 2019, arXiv:1902.08129.
# - A. Azulay, Y. Weiss. *Why do deep convolutional networks generalize so poorly to small image transformations?* JMLR 2019, arXiv:1805.12177.
# - R. Zhang. *Making convolutional networks shift-invariant again.* ICML 2019, arXiv:1904.11486.
# - V. Dumoulin, F. Visin. *A guide to convolution arithmetic for deep learning.* arXiv:1603.07285, 2016.
# - L. N. Smith, N. Topin. *Super-convergence: very fast training of neural networks using large learning rates.* arXiv:1708.07120 (the one-cycle schedule).
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
