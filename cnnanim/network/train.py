"""Train TinyVGG on your own data or the real datasets in ``shared/datasets``, and write
safetensors weights.

With ``data`` (an image folder or an ``.npz``, see :mod:`cnnanim.network.data`) the preset gives
the architecture and the recipe. Without it, preset ``explainer`` trains on ``tinyimagenet10_32``
(Tiny ImageNet's 10 CNN Explainer classes at 32x32, upsampled to 64x64 with Pillow BILINEAR) and
preset ``seed`` on MNIST: the shipped weights' recipe. The shared data is read from ``../shared``
(see :mod:`cnnanim.files`) and never copied into the repository.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.files import dataset_path
from cnnanim.network.data import Dataset, file_sha256
from cnnanim.network.presets import Preset, check_supported, get_preset, preset_name_of

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from cnnanim.network.model import TinyVGG

#: Dataset each preset trains on (a name for :func:`cnnanim.files.dataset_path`).
DATASETS: dict[str, str] = {"explainer": "tinyimagenet10_32", "seed": "mnist"}

#: How a dataset image becomes the model's input, stored in the weights' metadata.
PREPROCESSING: dict[str, str] = {
    "explainer": ("RGB uint8 HWC; training images (32x32) upsampled to 64x64 with Pillow "
                  "BILINEAR; /255 to float32 in [0, 1]; CHW; no mean/std normalisation "
                  "(photos: shorter side scaled to 64, centre crop, /255, as CNN Explainer)"),
    "seed": "greyscale 28x28 uint8; /255 to float32 in [0, 1]; CHW (1, 28, 28); no normalisation",
}


@dataclass(frozen=True)
class TrainConfig:
    """Training recipe of one preset (defaults; the CLI overrides epochs, seed, batch, lr).

    Attributes
    ----------
    epochs, batch_size : int
        Passes over the training set and images per step.
    lr, weight_decay : float
        Peak learning rate of AdamW (one-cycle cosine schedule) and decoupled weight decay.
    flip : bool
        Random horizontal flips (not for digits).
    max_shift, max_rotate, scale_range : float
        Random affine augmentation: shift as a fraction of the width, rotation in degrees,
        zoom range (min, max).
    colour : float
        Strength of random brightness/contrast/saturation jitter (0 disables).
    label_smoothing : float
        Cross-entropy label smoothing.
    warmup : float
        Fraction of the steps with a linear learning-rate warm-up.
    init : {"kaiming", "default"}
        He-normal conv init with zero biases, or torch's default init.
    """

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.0
    flip: bool = False
    max_shift: float = 0.0
    max_rotate: float = 0.0
    scale_range: tuple[float, float] = (1.0, 1.0)
    colour: float = 0.0
    label_smoothing: float = 0.0
    warmup: float = 0.1
    init: str = "kaiming"

    @property
    def augments(self) -> bool:
        """Whether any augmentation is enabled."""
        return (self.flip or self.max_shift > 0 or self.max_rotate > 0 or self.colour > 0
                or self.scale_range != (1.0, 1.0))


DEFAULT_CONFIGS: dict[str, TrainConfig] = {
    "explainer": TrainConfig(epochs=30, batch_size=64, lr=3e-3, weight_decay=5e-4, flip=True,
                             max_shift=0.125, max_rotate=10.0, scale_range=(0.85, 1.15),
                             colour=0.2, label_smoothing=0.05),
    "seed": TrainConfig(epochs=4, batch_size=128, lr=3e-3, weight_decay=1e-4, max_shift=0.07,
                        max_rotate=8.0, scale_range=(0.92, 1.08)),
}


def _upsample(x: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 (N, H, W, C) images to ``size`` with Pillow BILINEAR, as load_image does."""
    from PIL import Image

    if x.shape[1] == size and x.shape[2] == size:
        return x
    out = np.empty((x.shape[0], size, size, x.shape[3]), dtype=np.uint8)
    for i, img in enumerate(x):
        plane = img[:, :, 0] if img.shape[2] == 1 else img
        out[i] = np.asarray(Image.fromarray(plane).resize(
            (size, size), Image.Resampling.BILINEAR)).reshape(size, size, x.shape[3])
    return out


@lru_cache(maxsize=4)
def _load_dataset_cached(preset_name: str, path: str, mtime_ns: int, size: int,
                         image_size: int | None = None) -> Dataset:
    p = get_preset(preset_name)
    if image_size is not None:
        p = replace(p, image_size=image_size)
    name = DATASETS[preset_name]
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test", "class_names")}
    except KeyError as e:
        raise CnnanimError(f"dataset {path} lacks the array {e}") from None
    except (OSError, ValueError) as e:
        raise CnnanimError(f"cannot read dataset {path}: {e}") from None
    xs = []
    for key in ("x_train", "x_test"):
        x = arrays[key]
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[3] != p.in_channels:
            raise CnnanimError(f"dataset {path}: {key} has dtype {x.dtype} and shape {x.shape}, "
                               f"expected uint8 (N, H, W, {p.in_channels})")
        x = _upsample(x, p.image_size)
        xs.append(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    class_names = [str(c) for c in arrays["class_names"]]
    if class_names != list(p.classes):
        raise CnnanimError(f"dataset {path} has classes {class_names}, preset {p.name} expects "
                           f"{list(p.classes)}")
    return Dataset(name=name, x_train=xs[0], y_train=arrays["y_train"].astype(np.int64),
                   x_test=xs[1], y_test=arrays["y_test"].astype(np.int64),
                   class_names=class_names, path=Path(path), sha256=file_sha256(Path(path)))


def load_dataset(preset: str | Preset) -> Dataset:
    """Load (and cache) the dataset of ``preset``, resized to the model's input size.

    Raises
    ------
    CnnanimError
        If the dataset file is missing or malformed.
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    name = DATASETS[p.name]
    path = dataset_path(name)
    if not path.is_file():
        raise CnnanimError(f"dataset {name!r} not found at {path} (set CNNANIM_SHARED to the "
                           "folder holding datasets/)")
    st = path.stat()
    size = None if p.image_size == get_preset(p.name).image_size else p.image_size
    return _load_dataset_cached(p.name, str(path), st.st_mtime_ns, st.st_size, size)


def _to_float(x: np.ndarray) -> "torch.Tensor":
    import torch

    return torch.from_numpy(x).float().div_(255.0)


def augment(x: "torch.Tensor", cfg: TrainConfig, gen: "torch.Generator") -> "torch.Tensor":
    """Randomly flip, shift, rotate, zoom and colour-jitter a float batch (N, C, H, W) in [0, 1]."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=gen) * (hi - lo) + lo

    if cfg.max_shift > 0 or cfg.max_rotate > 0 or cfg.scale_range != (1.0, 1.0) or cfg.flip:
        angle = uniform(-cfg.max_rotate, cfg.max_rotate) * (math.pi / 180.0)
        scale = uniform(*cfg.scale_range)
        flip = (torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if cfg.flip
                else torch.ones(n))
        tx = uniform(-2 * cfg.max_shift, 2 * cfg.max_shift)  # grid units span [-1, 1]
        ty = uniform(-2 * cfg.max_shift, 2 * cfg.max_shift)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1),
                             torch.stack([sin * flip, cos, ty], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        pad = "reflection" if x.shape[1] == 3 else "zeros"
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode=pad, align_corners=False)
    if cfg.colour > 0 and x.shape[1] == 3:
        c = cfg.colour
        bright = uniform(1 - c, 1 + c).view(n, 1, 1, 1)
        contrast = uniform(1 - c, 1 + c).view(n, 1, 1, 1)
        sat = uniform(1 - c, 1 + c).view(n, 1, 1, 1)
        grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
        x = grey + (x - grey) * sat
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * contrast + mean
        x = x * bright
    return x.clamp_(0.0, 1.0)


def _accuracy(model: "TinyVGG", x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> float:
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(_to_float(x[i:i + batch_size]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch_size]).sum())
    return correct / max(1, len(x))


def evaluate(model: "TinyVGG", preset: str | Preset = "explainer", split: str = "test",
             limit: int | None = None) -> float:
    """Accuracy of ``model`` on a split (``test`` = held out, or ``train``) of the preset's dataset.

    Parameters
    ----------
    model : TinyVGG
        The network (put in eval mode).
    preset : str or Preset
        Selects the dataset.
    split : {"test", "train"}
        Which split.
    limit : int, optional
        Use only the first ``limit`` images.

    Returns
    -------
    float
        Fraction of correctly classified images.
    """
    if split not in ("test", "train"):
        raise CnnanimError(f"unknown split {split!r}; valid: test, train")
    data = load_dataset(preset)
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return _accuracy(model, x, y)


def _init_weights(model: "TinyVGG", how: str) -> None:
    """Initialise conv/linear layers: ``kaiming`` (He normal, zero bias) or ``default`` (torch's)."""
    import torch
    from torch import nn

    if how == "default":
        return
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)


def command_line(preset: str, epochs: int, seed: int, batch_size: int, lr: float,
                 out: str | os.PathLike, limit: int | None = None, *,
                 data: str | os.PathLike | None = None, hidden_units: int | None = None,
                 image_size: int | None = None, val_split: float | None = None) -> str:
    """The ``cnnanim train`` command that reproduces a training run."""
    from cnnanim.network.weights import source_command

    return source_command("cnnanim", "train", options=[
        ("--data", data), ("--preset", preset), ("--hidden-units", hidden_units),
        ("--image-size", image_size), ("--val-split", val_split), ("--epochs", epochs),
        ("--seed", seed), ("--batch-size", batch_size), ("--lr", float(lr)), ("--limit", limit),
        ("-o", out)])


def _set_determinism(seed: int, threads: int | None) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def _subset(x: np.ndarray, y: np.ndarray, limit: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A class-mixed subset of ``limit`` images (all images if ``limit`` is None)."""
    if limit is None or limit >= len(x):
        return x, y
    if limit < 1:
        raise CnnanimError(f"limit must be at least 1, got {limit}")
    idx = np.sort(np.random.default_rng(seed).permutation(len(x))[:limit])
    return x[idx], y[idx]


#: ``on_step(epoch, epochs, step, steps, loss, accuracy)``: after every training batch, with the
#: epoch's running mean loss and accuracy (e.g. to draw a progress bar).
StepCallback = Callable[[int, int, int, int, float, float], None]


def train(preset: str = "explainer", epochs: int | None = None, seed: int = 0,
          batch_size: int | None = None, lr: float | None = None,
          out: str | os.PathLike | None = None, *, limit: int | None = None,
          threads: int | None = 2, log: Callable[[str], None] | None = None,
          source: str | None = None, config: TrainConfig | None = None,
          data: str | os.PathLike | None = None, hidden_units: int | None = None,
          image_size: int | None = None, val_split: float | None = None,
          on_step: StepCallback | None = None) -> tuple["TinyVGG", dict]:
    """Train TinyVGG from scratch and (optionally) save the weights.

    Parameters
    ----------
    preset : {"explainer", "seed"}
        Architecture and recipe; without ``data`` also the dataset (Tiny ImageNet 10 classes,
        or MNIST, from ``shared/datasets``).
    epochs, batch_size, lr : optional
        Override the preset's :data:`DEFAULT_CONFIGS`.
    seed : int
        Seeds torch, numpy, the augmentation and ``val_split``; the same seed gives the same
        weights.
    out : path, optional
        Where to write the safetensors file (not written if None).
    limit : int, optional
        Train on a random subset of ``limit`` training images and evaluate on the first
        ``limit`` test images (for quick checks).
    threads : int, optional
        torch threads (default 2).
    log : callable, optional
        Receives one progress line per epoch (e.g. ``click.echo``).
    source : str, optional
        Command recorded in the metadata (default: the equivalent ``cnnanim train`` command).
    config : TrainConfig, optional
        Full recipe replacing the preset's default (epochs/batch_size/lr still override it).
    data : path, optional
        Your own data instead of the preset's: an image folder (one sub-folder per class; an
        optional ``val/``) or an ``.npz`` (see :func:`cnnanim.network.data.read_data`).
    hidden_units, image_size : int, optional
        Override the preset's filters per conv layer and input size.
    val_split : float, optional
        Hold out this seeded random fraction of ``data``'s training images.
    on_step : callable, optional
        See :data:`StepCallback`.

    Returns
    -------
    model : TinyVGG
        The trained network in eval mode.
    extra : dict
        Facts stored in the metadata (accuracies, wall time, seed, dataset sha256...).
    """
    import torch

    previous = (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(), torch.get_num_threads())
    try:
        return _train(preset, epochs, seed, batch_size, lr, out, limit=limit, threads=threads,
                      log=log, source=source, config=config, data=data,
                      hidden_units=hidden_units, image_size=image_size, val_split=val_split,
                      on_step=on_step)
    finally:  # leave the caller's process as it was
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.set_num_threads(previous[2])


def _architecture(preset: str, hidden_units: int | None, image_size: int | None) -> Preset:
    """The preset with its hidden units and input size overridden."""
    p = get_preset(preset)
    return replace(p, hidden_units=hidden_units or p.hidden_units,
                   image_size=image_size or p.image_size)


def _load(arch: Preset, data: str | os.PathLike | None, val_split: float | None,
          seed: int) -> Dataset:
    """The training data: ``data`` if given, else the preset's shared dataset."""
    from cnnanim.network.data import read_data

    if data is None:
        if val_split is not None:
            raise CnnanimError("--val-split needs --data (the shared datasets have a test split)")
        return load_dataset(arch)
    return read_data(data, arch, val_split, seed)


def _train(preset: str, epochs: int | None, seed: int, batch_size: int | None, lr: float | None,
           out: str | os.PathLike | None, *, limit: int | None, threads: int | None,
           log: Callable[[str], None] | None, source: str | None,
           config: TrainConfig | None, data: str | os.PathLike | None,
           hidden_units: int | None, image_size: int | None, val_split: float | None,
           on_step: StepCallback | None) -> tuple["TinyVGG", dict]:
    """Body of :func:`train` (which restores torch's global settings)."""
    import torch
    import torch.nn.functional as F

    from cnnanim.network.images import describe_preprocessing
    from cnnanim.network.model import TinyVGG
    from cnnanim.network.weights import (
        WeightsInfo,
        save_weights,
        source_command,
        state_to_numpy,
    )

    p = get_preset(preset)
    arch = _architecture(preset, hidden_units, image_size)
    check_supported(arch, source_command("--preset", p.name, options=[
        ("--hidden-units", hidden_units), ("--image-size", image_size)]))
    base = config or DEFAULT_CONFIGS[p.name]
    cfg = TrainConfig(**{**base.__dict__,
                         **{k: v for k, v in (("epochs", epochs), ("batch_size", batch_size),
                                              ("lr", lr)) if v is not None}})
    if cfg.epochs < 1 or cfg.batch_size < 1 or not cfg.lr > 0:
        raise CnnanimError("epochs and batch size must be at least 1 and lr positive")
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    _set_determinism(seed, threads)
    dataset = _load(arch, data, val_split, seed)
    arch = arch.with_classes(dataset.class_names)
    arch = replace(arch, name=preset_name_of(arch))
    check_supported(arch, str(data) if data is not None else dataset.name)
    x_train, y_train = _subset(dataset.x_train, dataset.y_train, limit, seed)
    x_test, y_test = ((dataset.x_test, dataset.y_test) if limit is None
                      else (dataset.x_test[:limit], dataset.y_test[:limit]))
    say(f"training {arch.name} on {dataset.name}: {len(x_train)} train / {len(x_test)} test "
        f"images, {arch.num_classes} classes, {arch.hidden_units} hidden units, "
        f"{arch.image_size}x{arch.image_size}, {cfg.epochs} epochs, batch {cfg.batch_size}, "
        f"lr {cfg.lr:g}, seed {seed}")

    torch.manual_seed(seed)
    model = TinyVGG.from_preset(arch)
    _init_weights(model, cfg.init)
    model = model.to(memory_format=torch.channels_last)  # faster convs on CPU; same weights
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    warm = max(1, int(cfg.warmup * total))

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    y_all = torch.from_numpy(y_train)
    history: list[dict] = []
    for epoch in range(1, cfg.epochs + 1):
        te = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train), generator=gen).numpy()
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx = np.sort(order[i:i + cfg.batch_size])
            xb = _to_float(x_train[idx]).contiguous(memory_format=torch.channels_last)
            yb = y_all[idx]
            if cfg.augments:
                xb = augment(xb, cfg, gen)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=cfg.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
            if on_step is not None:
                on_step(epoch, cfg.epochs, i // cfg.batch_size + 1, steps_per_epoch,
                        loss_sum / seen, correct / seen)
        train_acc = correct / len(x_train)
        test_acc = _accuracy(model, x_test, y_test) if len(x_test) else None
        row = {"epoch": epoch, "loss": loss_sum / len(x_train), "train_acc": train_acc,
               "test_acc": test_acc}
        history.append(row)
        held_out = f"  test acc {test_acc:6.2%}" if test_acc is not None else ""
        say(f"epoch {epoch:3d}/{cfg.epochs}  loss {row['loss']:.4f}  train acc {train_acc:6.2%}"
            f"{held_out}  ({time.perf_counter() - te:.1f} s)")
    model = model.to(memory_format=torch.contiguous_format).eval()
    wall = time.perf_counter() - t0
    test_acc = history[-1]["test_acc"]
    if data is None:
        dataset_file = f"shared/datasets/{dataset.name}/{dataset.path.name}"
        test_split = "Tiny ImageNet val (50 per class)" if p.name == "explainer" else "MNIST t10k"
    else:
        dataset_file, test_split = str(data), dataset.meta.get("test_split")
    extra = {
        "seed": seed, "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
        "optimizer": "AdamW", "weight_decay": cfg.weight_decay,
        "schedule": f"linear warm-up {cfg.warmup:g} then cosine to 0, per step",
        "label_smoothing": cfg.label_smoothing,
        "augmentation": ({"flip": cfg.flip, "max_shift": cfg.max_shift,
                          "max_rotate_deg": cfg.max_rotate, "scale_range": list(cfg.scale_range),
                          "colour_jitter": cfg.colour} if cfg.augments else None),
        "dataset": dataset.name, "dataset_file": dataset_file,
        "dataset_sha256": dataset.sha256,
        "train_images": int(len(x_train)), "test_images": int(len(x_test)),
        "test_split": test_split,
        "test_accuracy": round(test_acc, 4) if test_acc is not None else None,
        "train_accuracy": round(history[-1]["train_acc"], 4),
        "final_loss": round(history[-1]["loss"], 5), "wall_time_s": round(wall, 1),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "limit": limit,
    }
    if test_acc is not None:
        say(f"held-out test accuracy {test_acc:.2%} in {wall:.0f} s")
    else:
        say(f"trained in {wall:.0f} s (no held-out images: add a val/ folder or --val-split)")
    if out is not None:
        info = WeightsInfo(
            preset=arch.name, class_names=list(dataset.class_names),
            preprocessing=(PREPROCESSING[p.name] if data is None and arch.image_size == p.image_size
                           else describe_preprocessing(arch)),
            source=source or command_line(p.name, cfg.epochs, seed, cfg.batch_size, cfg.lr, out,
                                          limit, data=data, hidden_units=hidden_units,
                                          image_size=image_size, val_split=val_split),
            extra=extra, architecture=arch.architecture())
        path = save_weights(out, state_to_numpy(model.state_dict()), info)
        say(f"wrote {path}")
    return model, extra


def _tensor_order(name: str) -> tuple[int, str]:
    from cnnanim.network.presets import STAGES

    stage = name.split(".")[0]
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), name)


def describe_weights(path: str | os.PathLike) -> dict:
    """Summarise a weights file or shipped name (metadata, architecture, tensor shapes, sha256)
    without building a model.

    Returns
    -------
    dict
        ``file``, ``sha256``, ``preset``, ``architecture`` (as :meth:`Preset.architecture`),
        ``class_names``, ``preprocessing``, ``source``, ``tensors`` (name -> shape) and ``extra``.
    """
    from cnnanim.network.weights import read_weights, resolve_weights

    path = resolve_weights(path)
    tensors, info = read_weights(path)
    return {"file": str(path), "sha256": file_sha256(path), "preset": info.preset,
            "architecture": info.to_preset(str(path)).architecture(),
            "class_names": list(info.class_names), "preprocessing": info.preprocessing,
            "source": info.source,
            "tensors": {k: list(tensors[k].shape) for k in sorted(tensors, key=_tensor_order)},
            "extra": dict(info.extra)}
