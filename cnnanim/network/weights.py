"""Saving and loading TinyVGG weights as safetensors with JSON metadata (never pickle)."""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.files import Input, atomic_write, read_input
from cnnanim.network.presets import (
    PRESETS,
    Preset,
    get_preset,
    preset_from_architecture,
)


def _weights_dir() -> Path:
    try:  # installed as package data ("weights/" of the repository)
        import cnnanim_weights

        return Path(cnnanim_weights.__file__).resolve().parent
    except ImportError:
        return Path(__file__).resolve().parents[2] / "weights"


WEIGHTS_DIR = _weights_dir()
#: The shipped weights cnnanim trained itself, one per preset (the default of each preset).
DEFAULT_WEIGHTS = {"explainer": WEIGHTS_DIR / "explainer.safetensors",
                   "seed": WEIGHTS_DIR / "seed.safetensors"}
#: Every shipped weights file by the name ``--weights`` accepts.
NAMED_WEIGHTS = {**DEFAULT_WEIGHTS, "cnn-explainer": WEIGHTS_DIR / "cnn-explainer.safetensors"}


def resolve_weights(weights: str | os.PathLike | Input | None,
                    preset: str = "explainer") -> Path | Input:
    """The file ``--weights`` means: a shipped name (``explainer``, ``seed``, ``cnn-explainer``),
    else a path; None is the shipped weights of ``preset``. A file called like a name is
    reached as ``./NAME``."""
    if weights is None:
        return DEFAULT_WEIGHTS[get_preset(preset).name]
    if isinstance(weights, Input):
        return weights
    if isinstance(weights, str) and weights in NAMED_WEIGHTS:
        return NAMED_WEIGHTS[weights]
    if "://" in str(weights):
        read_input(str(weights), "weights file")  # says that URLs are not read
    path = Path(weights)
    if not path.exists():  # a pipe is fine; read_input names what else is wrong
        hint = "" if path.suffix or len(path.parts) > 1 else (
            f" (named weights: {', '.join(NAMED_WEIGHTS)})")
        raise CnnanimError(f"weights file not found: {path}{hint}")
    return path


@dataclass
class WeightsInfo:
    """Metadata stored inside a weights file.

    Attributes
    ----------
    preset : str
        Preset name: ``explainer`` or ``seed`` (the architecture of that preset unless
        ``architecture`` says otherwise), or a free label such as ``torch``.
    class_names : list of str
        Output classes in output order.
    preprocessing : str
        How an image becomes the model's input.
    source : str
        Where the weights come from (training command or importer).
    extra : dict
        Free-form facts (accuracy, seed, epochs...).
    architecture : dict
        The TinyVGG's hyper-parameters (:meth:`Preset.architecture`: in_channels, image_size,
        hidden_units, padding, kernel_size, pool_size); empty in files that predate it, which
        have the architecture of their preset.
    """

    preset: str
    class_names: list[str]
    preprocessing: str = "RGB, shorter side scaled to the input size, centre crop, /255"
    source: str = ""
    extra: dict = field(default_factory=dict)
    architecture: dict = field(default_factory=dict)

    def to_preset(self, where: str = "the weights file") -> Preset:
        """The architecture and class names of these weights, as a :class:`Preset`."""
        if self.architecture:
            return preset_from_architecture(self.preset, self.architecture, self.class_names, where)
        if self.preset not in PRESETS:
            raise CnnanimError(f"{where} names no architecture and an unknown preset "
                               f"{self.preset!r} (valid: {', '.join(PRESETS)})")
        return get_preset(self.preset).with_classes(self.class_names)


def source_command(*words: object, options: Sequence[tuple[str, object]] = ()) -> str:
    """The shell command stored as a weights file's ``source``: ``words``, then each option
    whose value is not None (floats written with ``:g``)."""
    parts = [str(w) for w in words]
    for flag, value in options:
        if value is not None:
            parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(parts)


def state_to_numpy(state: dict) -> dict[str, np.ndarray]:
    """Convert a torch state dict to contiguous float32 numpy arrays."""
    return {k: np.ascontiguousarray(v.detach().cpu().numpy().astype(np.float32))
            for k, v in state.items()}


def save_weights(path: str | os.PathLike, tensors: dict[str, np.ndarray], info: WeightsInfo) -> Path:
    """Write ``tensors`` and ``info`` to ``path`` atomically (temporary file, then rename)."""
    from safetensors.numpy import save

    path = Path(path)
    data = save({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()},
                metadata={"cnnanim": json.dumps(asdict(info))})
    atomic_write(path, data, parents=True)
    return path


def read_weights(path: str | os.PathLike | Input) -> tuple[dict[str, np.ndarray], WeightsInfo]:
    """Read a weights file (a path, or one already read by :func:`cnnanim.files.read_input`)
    without torch; errors are :class:`CnnanimError` with one line.

    Only floating-point tensors whose every value is finite are accepted: NaN or infinite
    weights would turn every number on screen into ``nan``.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load

    source = path if isinstance(path, Input) else read_input(path, "weights file")
    path, raw = source.path, source.data
    try:
        tensors = load(raw)
        header_len = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + header_len])
    except (SafetensorError, ValueError, OSError, UnicodeDecodeError) as e:
        raise CnnanimError(f"{path} is not a cnnanim weights file (safetensors): "
                           f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    check_values(tensors, str(path))
    meta = (header.get("__metadata__") or {}).get("cnnanim")
    if meta is None:
        raise CnnanimError(f"{path} has no cnnanim metadata (preset, class names); "
                           "convert it with 'cnnanim weights import-tfjs' or train one")
    try:
        info = WeightsInfo(**json.loads(meta))
    except (TypeError, ValueError) as e:
        raise CnnanimError(f"{path} has unreadable cnnanim metadata: {e}") from None
    return tensors, info


def check_values(tensors: dict[str, np.ndarray], where: str) -> None:
    """Raise a one-line error unless every tensor holds floating-point numbers, all finite."""
    for k, v in tensors.items():
        if not np.issubdtype(v.dtype, np.floating):
            raise CnnanimError(f"{where}: tensor {k} holds {v.dtype} values; weights must be "
                               "floating-point numbers")
        bad = v.size - int(np.count_nonzero(np.isfinite(v)))
        if bad:
            raise CnnanimError(f"{where}: tensor {k} has {bad} NaN or infinite "
                               f"value{'s' if bad > 1 else ''}; weights must be finite")


def check_shapes(tensors: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]],
                 where: str) -> None:
    """Raise a one-line error naming every missing, unexpected or mis-shaped tensor."""
    problems = []
    for k, shape in expected.items():
        if k not in tensors:
            problems.append(f"missing {k}")
        elif tuple(tensors[k].shape) != tuple(shape):
            problems.append(f"{k} has shape {tuple(tensors[k].shape)}, expected {tuple(shape)}")
    for k in tensors:
        if k not in expected:
            problems.append(f"unexpected {k}")
    if problems:
        raise CnnanimError(f"{where} does not fit the model: " + "; ".join(problems))


def load_model(path: str | os.PathLike | Input | None = None, preset: str = "explainer"):
    """Load a TinyVGG from a weights file, built as the file's metadata describes it.

    Parameters
    ----------
    path : path or name, optional
        A ``.safetensors`` file, a shipped name (see :func:`resolve_weights`) or a file already
        read (:func:`cnnanim.files.read_input`); default: the shipped weights of ``preset``.

    Returns
    -------
    model : TinyVGG
        In eval mode, on the CPU.
    info : WeightsInfo
        The file's metadata (``info.to_preset()`` is the architecture with its class names).
    """
    import torch

    from cnnanim.network.model import TinyVGG

    path = resolve_weights(path, preset)
    tensors, info = read_weights(path)
    model = TinyVGG.from_preset(info.to_preset(str(path.path if isinstance(path, Input) else path)))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    check_shapes(tensors, expected, str(path.path if isinstance(path, Input) else path))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    model.eval()
    return model, info
