"""Training data held in memory: the shared datasets' container, and your own data (an image
folder in torchvision's ImageFolder layout, or an ``.npz``) preprocessed like every photo.

Pillow and numpy only (no torch).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.network.presets import Preset

#: File endings read as images in an image folder (torchvision's, plus GIF).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
                    ".gif")

#: Sub-folders of an image folder that hold a split rather than a class.
SPLIT_FOLDERS = ("train", "val")


@dataclass
class Dataset:
    """Training and held-out images, preprocessed and held in memory.

    Attributes
    ----------
    name : str
        Short name (the shared dataset's, or the folder's / file's).
    x_train, x_test : numpy.ndarray
        uint8 (N, C, H, W) at the model's input size; ``x_test`` may hold no images.
    y_train, y_test : numpy.ndarray
        int64 labels.
    class_names : list of str
        Class names in output order.
    path : Path
        The npz file or image folder read.
    sha256 : str
        sha256 of the npz file, or of the image folder's relative paths and bytes.
    meta : dict
        How the held-out split was made (``test_split``) and the layout.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    path: Path
    sha256: str
    meta: dict = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _to_input(source, arch: Preset) -> np.ndarray:
    """One image (path or array) as the model sees it, back in uint8 (exact: load_image divides
    uint8 pixels by 255)."""
    from cnnanim.network.images import load_image

    return np.rint(load_image(source, arch) * np.float32(255.0)).astype(np.uint8)


# -- image folders --------------------------------------------------------------------------
def _class_folders(root: Path, skip: tuple[str, ...] = ()) -> list[Path]:
    return sorted((d for d in root.iterdir()
                   if d.is_dir() and not d.name.startswith(".") and d.name not in skip),
                  key=lambda d: d.name)


def _image_files(folder: Path) -> list[Path]:
    return sorted((f for f in folder.rglob("*")
                   if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
                   and not any(part.startswith(".") for part in f.relative_to(folder).parts)),
                  key=lambda f: f.relative_to(folder).as_posix())


def _read_split(root: Path, arch: Preset, class_names: list[str] | None, skip: tuple[str, ...],
                digest) -> tuple[np.ndarray, np.ndarray, list[str]]:
    folders = _class_folders(root, skip)
    names = [d.name for d in folders]
    if class_names is None:
        if len(folders) < 2:
            raise CnnanimError(f"{root} holds {len(folders)} class folder(s); an image folder "
                               "needs one sub-folder per class, at least two "
                               "(e.g. DIR/cat/1.png, DIR/dog/2.png)")
        class_names = names
    else:
        unknown = [n for n in names if n not in class_names]
        if unknown:
            raise CnnanimError(f"{root} has the class folder {unknown[0]!r}, which the training "
                               f"images lack (classes: {', '.join(class_names)})")
    xs, ys = [], []
    for d in folders:
        files = _image_files(d)
        if not files:
            raise CnnanimError(f"class folder {d} holds no images "
                               f"({', '.join(IMAGE_EXTENSIONS)})")
        label = class_names.index(d.name)
        for f in files:
            digest.update(f.relative_to(root.parent).as_posix().encode() + b"\0")
            digest.update(f.read_bytes())
            xs.append(_to_input(f, arch))
            ys.append(label)
    x = np.stack(xs) if xs else np.zeros((0, *arch.input_shape), np.uint8)
    return x, np.asarray(ys, dtype=np.int64), class_names


def read_image_folder(root: str | os.PathLike, arch: Preset) -> Dataset:
    """Read an image folder: ``DIR/CLASS/*.png``, or ``DIR/train/CLASS/...`` and
    ``DIR/val/CLASS/...``; a ``DIR/val`` beside the class folders is the held-out split.

    Classes are the sorted folder names (as torchvision's ImageFolder); every image is
    preprocessed as :func:`cnnanim.network.images.load_image` does for ``arch``.
    """
    root = Path(root)
    digest = hashlib.sha256()
    train_root = root / "train" if (root / "train").is_dir() else root
    x, y, names = _read_split(train_root, arch, None, SPLIT_FOLDERS if train_root == root else (),
                              digest)
    if (root / "val").is_dir():
        xv, yv, _ = _read_split(root / "val", arch, names, (), digest)
        split = f"val/ folder ({len(xv)} images)"
    else:
        xv, yv, split = x[:0], y[:0], None
    return Dataset(name=root.resolve().name, x_train=x, y_train=y, x_test=xv, y_test=yv,
                   class_names=names, path=root, sha256=digest.hexdigest(),
                   meta={"layout": "image folder", "test_split": split})


# -- npz --------------------------------------------------------------------------------------
def _npz_images(x: np.ndarray, arch: Preset, where: str) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) images (uint8, or float in [0, 1]) as uint8 (N, C, S, S)."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[3] not in (1, 3) or x.dtype.kind not in "uif":
        raise CnnanimError(f"{where} has dtype {x.dtype} and shape {x.shape}; expected images "
                           "(N, H, W) or (N, H, W, C) with C 1 or 3, uint8 or floats in [0, 1]")
    if x.dtype != np.uint8:
        x = x.astype(np.float64)
        if x.size and (x.min() < 0 or x.max() > 1):
            raise CnnanimError(f"{where} holds values outside [0, 1]; give uint8 0-255 or "
                               "floats in [0, 1]")
        x = np.rint(x * 255.0).astype(np.uint8)
    if x.shape[1:] == (arch.image_size, arch.image_size, arch.in_channels):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    out = np.empty((len(x), *arch.input_shape), dtype=np.uint8)
    for i, img in enumerate(x):
        out[i] = _to_input(img, arch)
    return out


def read_npz(path: str | os.PathLike, arch: Preset) -> Dataset:
    """Read ``x_train``, ``y_train`` (optionally ``x_test``/``y_test`` or ``x_val``/``y_val``,
    and ``class_names``) from an ``.npz`` (never pickle); images are resized like photos."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise CnnanimError(f"cannot read {path} as an .npz of arrays: {e}") from None
    test_keys = ("x_test", "y_test") if "x_test" in arrays else ("x_val", "y_val")
    for k in ("x_train", "y_train"):
        if k not in arrays:
            raise CnnanimError(f"{path} lacks the array {k!r}; expected x_train, y_train "
                               "(optionally x_test, y_test, class_names)")
    labels = [arrays["y_train"]] + ([arrays[test_keys[1]]] if test_keys[1] in arrays else [])
    for y in labels:
        if y.ndim != 1 or y.dtype.kind not in "iu" or (y.size and y.min() < 0):
            raise CnnanimError(f"{path}: labels must be non-negative integers (N,), got "
                               f"{y.dtype} {y.shape}")
    if "class_names" in arrays:
        names = [str(c) for c in arrays["class_names"].reshape(-1)]
    else:
        names = [str(i) for i in range(int(max(int(y.max(initial=0)) for y in labels)) + 1)]
    if any(int(y.max(initial=0)) >= len(names) for y in labels):
        raise CnnanimError(f"{path}: a label is >= the {len(names)} class names")
    x = _npz_images(arrays["x_train"], arch, f"{path} x_train")
    if len(x) != len(arrays["y_train"]):
        raise CnnanimError(f"{path}: {len(x)} images in x_train but "
                           f"{len(arrays['y_train'])} labels")
    if test_keys[0] in arrays and test_keys[1] in arrays:
        xv = _npz_images(arrays[test_keys[0]], arch, f"{path} {test_keys[0]}")
        yv = arrays[test_keys[1]].astype(np.int64)
        if len(xv) != len(yv):
            raise CnnanimError(f"{path}: {len(xv)} images in {test_keys[0]} but {len(yv)} labels")
        split = f"{test_keys[0]} ({len(xv)} images)"
    else:
        xv, yv, split = x[:0], np.zeros(0, np.int64), None
    return Dataset(name=path.stem, x_train=x, y_train=arrays["y_train"].astype(np.int64),
                   x_test=xv, y_test=yv, class_names=names, path=path, sha256=file_sha256(path),
                   meta={"layout": "npz", "test_split": split})


def hold_out(data: Dataset, fraction: float, seed: int) -> Dataset:
    """Move a seeded random ``fraction`` of the training images to the held-out split."""
    if not 0 < fraction < 1:
        raise CnnanimError(f"--val-split must be between 0 and 1, got {fraction:g}")
    if len(data.x_test):
        raise CnnanimError(f"{data.path} has its own held-out split ({data.meta['test_split']}); "
                           "drop --val-split")
    n = len(data.x_train)
    n_val = int(round(fraction * n))
    if n_val < 1 or n_val >= n:
        raise CnnanimError(f"--val-split {fraction:g} of {n} images leaves no training or no "
                           "held-out image")
    order = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    meta = {**data.meta, "test_split": f"--val-split {fraction:g}: {n_val} images held out "
                                       f"(seed {seed})"}
    return Dataset(name=data.name, x_train=data.x_train[train], y_train=data.y_train[train],
                   x_test=data.x_train[val], y_test=data.y_train[val],
                   class_names=data.class_names, path=data.path, sha256=data.sha256, meta=meta)


def read_data(path: str | os.PathLike, arch: Preset, val_split: float | None = None,
              seed: int = 0) -> Dataset:
    """Your own training data: an image folder or an ``.npz``, at ``arch``'s input size.

    Raises
    ------
    CnnanimError
        One line naming what is missing or malformed.
    """
    p = Path(path)
    if p.is_dir():
        data = read_image_folder(p, arch)
    elif p.is_file():
        data = read_npz(p, arch)
    else:
        raise CnnanimError(f"training data not found: {p} (give an image folder with one "
                           "sub-folder per class, or an .npz)")
    return hold_out(data, val_split, seed) if val_split is not None else data
