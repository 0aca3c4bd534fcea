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
# - compute any convolution's output size from kernel, stride, padding and dilation, and write a convolution yourself;
# - build, train and read a compact CNN (conv → batch norm → ReLU → pool) that beats an MLP with fewer parameters;
# - say what LeNet-5, AlexNet, VGG, GoogLeNet and ResNet each introduced;
# - measure why very deep plain networks are hard to train and how a skip connection fixes it;
# - look inside a trained network: its filters and its feature maps.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | all 60,000 training images, 6 epochs for the CNN | about 4 minutes (measured: see the README's chapter table) |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, short loops: checks that everything runs | under 45 seconds |
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

runtime.check_version(COURSE_UTILS_VERSION)

# %% [markdown]
# Everything that decides how long the chapter takes sits in one configuration cell. The left column is the
# full run you read about; the right column is the *smoke* run that CI uses (set `COURSE_SMOKE=1`).

# %%
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import display

from course_utils import augment, batches, data, plotting, runtime, train, widgets
from course_utils.cnn import checks, models, views
from course_utils.widgets import show_source

chapter_start = time.perf_counter()
cfg = runtime.Config(
    n_train=(None, 2000),        # None: all 60,000 training images
    n_test=(None, 1000),
    batch_size=(256, 256),
    cnn_epochs=(6, 1),
    mlp_epochs=(6, 1),
    lr=(0.2, 0.2),               # peak learning rate of the one-cycle schedule
    deep_steps=(150, 10),        # training steps of the deep plain vs residual race
    exercise_n_train=(12000, 1000),
    seed=(0, 0),
)
cfg

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
# positions (with $d = 1$: $\lfloor (H + 2p - k)/s \rfloor + 1$). Two common choices have names: **valid**
# padding ($p = 0$) lets the map shrink by $k-1$; **same** padding ($p = (k-1)/2$ for odd $k$, stride 1) keeps the
# size. The table is computed by real `nn.Conv2d` layers:

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'H':>3} {'k':>2} {'s':>2} {'p':>2} {'d':>2} | {'nn.Conv2d':>9} {'formula':>8}  note")
for H, k, s, p, d, note in [(28, 3, 1, 0, 1, "valid"), (28, 3, 1, 1, 1, "same"), (28, 5, 1, 2, 1, "same"),
                            (28, 3, 2, 1, 1, "stride 2 halves"), (7, 3, 2, 0, 1, "floor drops a row"),
                            (28, 3, 1, 2, 2, "dilated 'same'")]:
    measured = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, H, H)).shape[-1]
    formula = (H + 2 * p - d * (k - 1) - 1) // s + 1
    assert measured == formula
    print(f"{H:>3} {k:>2} {s:>2} {p:>2} {d:>2} | {measured:>9} {formula:>8}  {note}")

# %% [markdown]
# **Conv-arithmetic explorer.** Move the sliders: the left grid is the padded input (light: padding, blue:
# real pixels), the red squares are the taps of the kernel at one output position, and the right grid is the
# output. The *position* slider walks the window across the output; the caption shows the formula with your
# numbers.

# %% tags=["nbval-ignore-output"]
conv_view = views.conv_arithmetic_view(size=7, kernel=3, stride=2, padding=1, dilation=1)
widgets.show(conv_view, views.conv_arithmetic_figure(size=7, kernel=3, stride=2, padding=1, dilation=1))

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
# ## 5. An MLP baseline versus a small CNN
#
# Both models get the same data, optimizer and schedule: SGD with Nesterov momentum, a one-cycle learning rate
# (warm up, then anneal), label smoothing 0.1, and random horizontal flips of the training images. Pixels are
# standardized by the model's first layer (`models.Normalize`: mean 0.286, std 0.353 of the training set), so
# every caller can feed plain [0, 1] images. The test set is only watched, never used to pick an epoch.

# %%
def train_classifier(model, X, y, X_test, y_test, *, num_epochs, lr, batch_size, device, transform=None):
    """Train `model` with SGD + one-cycle schedule + label smoothing; returns the History."""
    channels_last = lambda t: t.contiguous(memory_format=torch.channels_last)  # noqa: E731 - faster conv on CPU
    augment_batch = (lambda t: channels_last(transform(t))) if transform else channels_last
    model = model.to(device, memory_format=torch.channels_last)
    train_loader = batches.Batches(X, y, batch_size=batch_size, shuffle=True, drop_last=True, device=device,
                                   transform=augment_batch)
    test_loader = batches.Batches(X_test, y_test, batch_size=1000, device=device, transform=channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, pct_start=0.25,
                                                    total_steps=num_epochs * len(train_loader))
    step = train.classification_step(lambda logits, y: F.cross_entropy(logits, y, label_smoothing=0.1))
    return train.fit(model, train_loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler,
                     step=step, val_loader=test_loader, monitor=None)


# %% [markdown]
# The baseline flattens each image into 784 numbers and uses two hidden layers:

# %%
mlp = models.MLP(hidden_dims=(256, 128))
print(mlp)
print(f"MLP parameters: {train.count_parameters(mlp):,}")

# %%
mlp_history = train_classifier(mlp, ds.X_train, ds.y_train, ds.X_test, ds.y_test, num_epochs=cfg.mlp_epochs,
                               lr=cfg.lr / 2, batch_size=cfg.batch_size, device=device, transform=augment.random_flip)

# %% [markdown]
# The CNN stacks three blocks of conv 3×3 → batch norm → ReLU → max pool 2×2, halving the image each time
# (28 → 14 → 7 → 3) while the channels grow (32 → 64 → 128), then one linear layer. Batch norm standardizes each
# channel over the batch, which lets a high learning rate train stably; the conv before it needs no bias because
# batch norm has its own. The model lives in `course_utils.cnn.models` because chapter 04 reuses it:

# %%
show_source(models.conv_block)
show_source(models.FashionCNN)

# %%
# NBVAL_CHECK_OUTPUT
cnn = models.FashionCNN(channels=(32, 64, 128))
x = torch.zeros(2, 1, 28, 28)
for name, layer in [("block 1", cnn.features[:2]), ("block 2", cnn.features[:3]), ("block 3", cnn.features)]:
    print(f"{name}: {tuple(layer(x).shape)}")
print("logits:", tuple(cnn(x).shape))
print(f"CNN parameters: {train.count_parameters(cnn):,}")

# %%
cnn_history = train_classifier(cnn, ds.X_train, ds.y_train, ds.X_test, ds.y_test, num_epochs=cfg.cnn_epochs,
                               lr=cfg.lr, batch_size=cfg.batch_size, device=device, transform=augment.random_flip)

# %%
def test_accuracy(model, X, y, device):
    logits = train.predict(model, X.contiguous(memory_format=torch.channels_last).to(device))
    return (logits.argmax(1).cpu() == y).float().mean().item()


results = {}
for name, model, history in [("MLP 784-256-128-10", mlp, mlp_history), ("CNN 32-64-128", cnn, cnn_history)]:
    results[name] = {"parameters": train.count_parameters(model), "test accuracy": test_accuracy(model, ds.X_test, ds.y_test, device),
                     "training seconds": sum(history["seconds"])}
print(f"{'model':<20} {'parameters':>10} {'test acc':>9} {'train time':>11}")
for name, r in results.items():
    print(f"{name:<20} {r['parameters']:>10,} {r['test accuracy']:>9.2%} {r['training seconds']:>10.0f}s")

# %% [markdown]
# Read the table: the CNN has fewer parameters than the MLP, and it is the more accurate of the two, because its
# weights are spent on local patterns reused at every position rather than on one weight per pixel and unit. It
# also costs more computation per image: each filter is applied at every position. (In smoke mode both saw only
# 2,000 images for one epoch, so the numbers are far lower.)
#
# Where does the CNN still go wrong? The confusion matrix shows which classes it mixes up:

# %%
y_pred = train.predict(cnn, ds.X_test.contiguous(memory_format=torch.channels_last).to(device)).argmax(1).cpu()
fig = plotting.plot_confusion_matrix(ds.y_test, y_pred, ds.classes, title="CNN on the test set (rows sum to 1)")
fig

# %%
wrong = (y_pred != ds.y_test).nonzero()[:8, 0]
fig = plotting.image_row(ds.X_test[wrong], titles=[f"{ds.classes[int(y_pred[i])]}\n(is {ds.classes[int(ds.y_test[i])]})"
                                                   for i in wrong], size=1.3)
fig

# %% [markdown]
# Most mistakes are between the upper-body garments (shirt, T-shirt, pullover, coat), which look alike even to
# people at 28×28 pixels.
#
# ## 6. Landmark architectures
#
# The CNN above is small; the architectures that made CNNs famous are the same idea at scale, each adding one
# thing. Parameter counts below come from code: LeNet-5 is written out here, the others are torchvision's
# definitions built on the `meta` device (shapes only, no memory and no download).

# %%
import torchvision

lenet5 = nn.Sequential(  # LeCun et al. 1998, for 32x32 digits
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
# | AlexNet | 2012 | a deep CNN on GPUs with ReLU, dropout and data augmentation | ImageNet (ILSVRC-2012) top-5 error 15.3 %, against 26.2 % for the runner-up |
# | VGG | 2014 | depth from uniform stacks of 3×3 convolutions (16–19 layers) | ILSVRC-2014 top-5 error 7.3 % (2nd in classification) |
# | GoogLeNet / Inception | 2014 | Inception modules: parallel 1×1, 3×3, 5×5 branches with 1×1 reductions; 22 layers, few parameters | ILSVRC-2014 winner, top-5 error 6.7 % |
# | ResNet | 2015 | residual (skip) connections that make 100+ layer networks trainable | ILSVRC-2015 winner, top-5 error 3.6 % (152 layers, ensemble) |
#
# Note the trend the printed counts show: VGG-16 is the heaviest by far because of its dense layers, while
# GoogLeNet and ResNet replace those with global average pooling. (LeNet-5 is an MNIST model, not an ImageNet one.)
#
# ## 7. Going deep: residual connections
#
# Stacking more conv layers should never hurt in principle: the extra layers could learn the identity. In
# practice deep *plain* stacks train worse than shallow ones. The gradient reaching the first layer is a product
# of one factor per layer, so it tends to shrink towards zero or blow up as depth grows. A **residual block**
# computes $\text{relu}(x + F(x))$: the identity path gives the gradient a route that skips $F$. A block with
# two 3×3 convolutions and no 1×1 reduction is called a *basic* block (ResNet-50 and deeper use *bottleneck*
# blocks of 1×1 → 3×3 → 1×1).

# %%
class PlainBlock(nn.Module):
    """conv-BN-ReLU-conv-BN-ReLU, channels and size unchanged."""

    def __init__(self, channels, batch_norm=True):
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(channels)) if batch_norm else nn.Identity
        self.f = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), norm(), nn.ReLU(),
                               nn.Conv2d(channels, channels, 3, padding=1), norm())

    def forward(self, x):
        return torch.relu(self.f(x))


class BasicBlock(PlainBlock):
    """The same layers plus the skip connection: relu(x + F(x))."""

    def forward(self, x):
        return torch.relu(x + self.f(x))


def deep_net(block, num_blocks, width=16, batch_norm=True):
    return nn.Sequential(models.Normalize(), nn.Conv2d(1, width, 3, stride=2, padding=1), nn.ReLU(),  # (B, 16, 14, 14)
                         nn.MaxPool2d(2),                                                             # (B, 16, 7, 7)
                         *[block(width, batch_norm) for _ in range(num_blocks)],
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


# %% [markdown]
# We measure the norm of the loss gradient at the first conv layer, at initialization, for nets of 2 to 32
# blocks (5 to 65 layers), with and without batch norm, averaged over three random initializations (a norm that
# underflows to exactly 0 is drawn at 10⁻³⁰):

# %%
X_probe, y_probe = ds.X_train[:128], ds.y_train[:128]
depths = [2, 4, 8, 16, 32]
grad_norms = {}
for batch_norm in (True, False):
    for block in (PlainBlock, BasicBlock):
        norms = []
        for num_blocks in depths:
            per_seed = []
            for seed in range(3):
                torch.manual_seed(seed)
                net = deep_net(block, num_blocks, batch_norm=batch_norm)
                F.cross_entropy(net(X_probe), y_probe).backward()
                per_seed.append(net[1].weight.grad.norm().item())
            norms.append(sum(per_seed) / len(per_seed))
        grad_norms[(block.__name__, batch_norm)] = norms

# %%
fig, ax = plotting.new_figure(figsize=(6, 3.5))
for (name, batch_norm), norms in grad_norms.items():
    ax.plot([2 * d + 1 for d in depths], [max(n, 1e-30) for n in norms], marker="o",
            ls="-" if name == "BasicBlock" else "--", label=f"{'residual' if name == 'BasicBlock' else 'plain'}, "
            f"{'with' if batch_norm else 'no'} batch norm")
ax.set(xscale="log", yscale="log", xlabel="conv layers", ylabel="‖∂L/∂W‖ at the first layer",
       title="Gradient reaching the first layer at initialization")
ax.set_xticks([2 * d + 1 for d in depths], [str(2 * d + 1) for d in depths])
ax.minorticks_off()
ax.legend(fontsize=8)
fig

# %%
for (name, batch_norm), norms in grad_norms.items():
    print(f"{name:<11} batch norm={batch_norm!s:<5} " + "  ".join(f"{d:>2} blocks: {n:8.2e}" for d, n in zip(depths, norms)))

# %% [markdown]
# Without batch norm the plain net's first-layer gradient collapses towards zero as layers are added (vanishing);
# with batch norm it instead grows with depth (exploding). Either way the first layers of a deep plain net get
# a signal that is useless for learning. The residual net's gradient stays in the same range at every depth.
# A short training race at 17 conv layers (8 blocks, with batch norm) shows what that does to learning:

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


race = {}
for block in (PlainBlock, BasicBlock):
    torch.manual_seed(0)
    race[block.__name__] = quick_train(deep_net(block, 8), ds.X_train, ds.y_train, cfg.deep_steps)

# %%
fig, ax = plotting.new_figure(figsize=(6, 3.2))
smooth = lambda v, n=10: [sum(v[max(0, i - n + 1): i + 1]) / len(v[max(0, i - n + 1): i + 1]) for i in range(len(v))]  # noqa: E731
for name, losses in race.items():
    ax.plot(smooth(losses), label=f"{'residual' if name == 'BasicBlock' else 'plain'} (8 blocks, 17 layers)")
ax.set(xlabel="training step", ylabel="training loss (moving average)", title="Same layers, with and without skips")
ax.legend(fontsize=8)
for name, losses in race.items():
    print(f"{name:<11} mean loss over the last 20 steps: {sum(losses[-20:]) / len(losses[-20:]):.3f}")
fig

# %% [markdown]
# ## 8. Looking inside the trained CNN
#
# The first layer's 32 filters are 3×3 weight patterns; many are edge and contrast detectors in different
# orientations, like the Sobel filters of section 2, but learned:

# %%
fig = plotting.plot_filters(cnn.features[1][0].weight, ncols=16, title="first-layer filters of the trained CNN", size=0.55)
fig

# %% [markdown]
# **Feature-map viewer.** Pick a test image and a block; you see the first 16 channels that block outputs.
# Early maps still look like the garment (edges, light and dark regions); after three blocks they are 3×3 summaries
# that only the classifier can read. The maps for 16 test images are computed once, so the slider is instant.

# %%
blocks = {"block 1 (32 × 14 × 14)": cnn.features[1], "block 2 (64 × 7 × 7)": cnn.features[2],
          "block 3 (128 × 3 × 3)": cnn.features[3]}
viewer_images = ds.X_test[:16]
feature_maps = views.collect_feature_maps(cnn, blocks, viewer_images.to(device))
viewer_titles = [ds.classes[int(c)] for c in ds.y_test[:16]]

# %% tags=["nbval-ignore-output"]
feature_view = views.feature_map_view(feature_maps, viewer_images, viewer_titles)
static = plotting.plot_feature_maps(feature_maps[next(iter(blocks))][0], ncols=16, max_maps=16, size=0.6,
                                    title=f"block 1 feature maps of test image 0 ({viewer_titles[0]})")
widgets.show(feature_view, static)

# %%
for name in list(blocks)[1:]:
    display(plotting.plot_feature_maps(feature_maps[name][0], ncols=16, max_maps=16, size=0.6,
                                       title=f"{name} of test image 0"))

# %% [markdown]
# How does the network respond to small shifts? We move every test image by one pixel and measure the
# relative change $\lVert f(\text{shifted}) - f(x)\rVert / \lVert f(x)\rVert$ of the pixels, of each block's
# output, of block 3's output averaged over positions (global average pooling), and of the predicted class:

# %%
@torch.no_grad()
def relative_change(a, b):
    return ((a - b).flatten(1).norm(dim=1) / a.flatten(1).norm(dim=1)).mean().item()


X_probe = ds.X_test[:500]
X_shifted = torch.roll(X_probe, shifts=1, dims=-1)
before = views.collect_feature_maps(cnn, blocks, X_probe.to(device))
after = views.collect_feature_maps(cnn, blocks, X_shifted.to(device))
print(f"{'pixels':<32} {relative_change(X_probe, X_shifted):.2f}")
for name in blocks:
    print(f"{name:<32} {relative_change(before[name], after[name]):.2f}")
last = list(blocks)[-1]
print(f"{'block 3, global average pooled':<32} {relative_change(before[last].mean((2, 3)), after[last].mean((2, 3))):.2f}")
same = (train.predict(cnn, X_probe.to(device)).argmax(1) == train.predict(cnn, X_shifted.to(device)).argmax(1)).float().mean()
print(f"predicted class unchanged for {same:.1%} of the images")

# %% [markdown]
# Compare the rows. The feature maps change about as much as the pixels do: they are *equivariant*, so a
# shifted image gives shifted maps, and a shifted map is a different tensor. A 2×2 max pool absorbs a shift only
# when the strongest response stays inside its window, so a single pool buys only a little invariance. What is
# clearly less sensitive is a summary that forgets *where*: averaging block 3 over its positions, and the class
# the network predicts from it.
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
# | depth | plain deep stacks get vanishing or exploding first-layer gradients; residual blocks keep them in range |
# | inside the network | first layers detect edges; deeper maps are coarse and abstract; pooling buys shift robustness |
#
# The numbers this run produced:

# %%
print(f"MLP test accuracy: {results['MLP 784-256-128-10']['test accuracy']:.2%} "
      f"with {results['MLP 784-256-128-10']['parameters']:,} parameters")
print(f"CNN test accuracy: {results['CNN 32-64-128']['test accuracy']:.2%} "
      f"with {results['CNN 32-64-128']['parameters']:,} parameters, "
      f"{results['CNN 32-64-128']['training seconds']:.0f} s of training on {device} ({torch.get_num_threads()} threads)")

# Headline numbers for the course benchmarks (stored only when COURSE_RESULTS names a file).
from course_utils.results import record

record("cnn_test_accuracy", results["CNN 32-64-128"]["test accuracy"], unit="fraction")
record("cnn_train_seconds", results["CNN 32-64-128"]["training seconds"], unit="s")
record("mlp_test_accuracy", results["MLP 784-256-128-10"]["test accuracy"], unit="fraction")

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: output size.** Write `conv_output_size(h, k, s=1, p=0, d=1)` that returns the output length of a
# convolution along one axis. The check compares it with what `F.conv2d` produces for many combinations.

# %% jupyter={"source_hidden": true} tags=["solution"]
def conv_output_size(h, k, s=1, p=0, d=1):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


# %%
checks.check_conv_output_size(conv_output_size)

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
    h = train_classifier(model, ds.X_train[:n], ds.y_train[:n], ds.X_test, ds.y_test, num_epochs=2, lr=cfg.lr,
                         batch_size=cfg.batch_size, device=device)
    comparison[name] = (train.count_parameters(model), h["val_acc"][-1], sum(h["seconds"]) / len(h))
for name, (params, acc, sec) in comparison.items():
    print(f"{name:<9} {params:>8,} parameters   test acc {acc:.2%}   {sec:.1f} s/epoch on {n:,} images")

# %%
checks.check_strided_cnn(strided_cnn, models.FashionCNN())

# %% [markdown]
# Same parameters (a strided conv has the same weights as the conv it replaces) and several times less
# computation, because each conv runs at the lower resolution instead of computing every position and then
# discarding three out of four. Accuracy after so short a run is close and either can come out ahead: pooling
# keeps the strongest response in each window, a stride-2 conv learns its own way to summarize. Many modern
# networks (ResNet's downsampling blocks among them) use strided convolutions for exactly this saving.
#
# **Exercise 3: add a residual connection.** Write `ResidualBlock(channels)`: two 3×3 convolutions with batch
# norm, padding 1, and the input added back before the final ReLU, as in section 7 but as a class of your own.

# %% jupyter={"source_hidden": true} tags=["solution"]
class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


# %%
checks.check_residual_block(ResidualBlock)

# %% [markdown]
# ## Further reading
#
# - Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. *Gradient-based learning applied to document recognition.* Proc. IEEE, 1998 (LeNet-5).
# - A. Krizhevsky, I. Sutskever, G. Hinton. *ImageNet classification with deep convolutional neural networks.* NeurIPS 2012 (AlexNet).
# - K. Simonyan, A. Zisserman. *Very deep convolutional networks for large-scale image recognition.* ICLR 2015, arXiv:1409.1556 (VGG).
# - C. Szegedy et al. *Going deeper with convolutions.* CVPR 2015, arXiv:1409.4842 (GoogLeNet).
# - K. He, X. Zhang, S. Ren, J. Sun. *Deep residual learning for image recognition.* CVPR 2016, arXiv:1512.03385 (ResNet).
# - S. Ioffe, C. Szegedy. *Batch normalization.* ICML 2015, arXiv:1502.03167.
# - V. Dumoulin, F. Visin. *A guide to convolution arithmetic for deep learning.* arXiv:1603.07285, 2016.
# - L. N. Smith, N. Topin. *Super-convergence: very fast training of neural networks using large learning rates.* arXiv:1708.07120 (the one-cycle schedule).
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
