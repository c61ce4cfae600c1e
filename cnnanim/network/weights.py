"""Saving and loading TinyVGG weights as safetensors with JSON metadata (never pickle)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.files import Input, atomic_write, read_input
from cnnanim.network.presets import Preset, get_preset


#: The weights every command uses when none are given.
def _weights_dir() -> Path:
    try:  # installed as package data ("weights/" of the repository)
        import cnnanim_weights

        return Path(cnnanim_weights.__file__).resolve().parent
    except ImportError:
        return Path(__file__).resolve().parents[2] / "weights"


WEIGHTS_DIR = _weights_dir()
DEFAULT_WEIGHTS = {"explainer": WEIGHTS_DIR / "explainer.safetensors",
                   "seed": WEIGHTS_DIR / "seed.safetensors"}


@dataclass
class WeightsInfo:
    """Metadata stored inside a weights file.

    Attributes
    ----------
    preset : str
        Preset name (architecture).
    class_names : list of str
        Output classes in output order.
    preprocessing : str
        How an image becomes the model's input.
    source : str
        Where the weights come from (training command or importer).
    extra : dict
        Free-form facts (accuracy, seed, epochs...).
    """

    preset: str
    class_names: list[str]
    preprocessing: str = "RGB, shorter side scaled to the input size, centre crop, /255"
    source: str = ""
    extra: dict = field(default_factory=dict)


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
    """Load a TinyVGG from a weights file (default: the shipped weights of ``preset``), given
    by its path or already read (:func:`cnnanim.files.read_input`).

    Returns
    -------
    model : TinyVGG
        In eval mode, on the CPU.
    info : WeightsInfo
        The file's metadata.
    """
    import torch

    from cnnanim.network.model import TinyVGG

    if path is None:
        path = DEFAULT_WEIGHTS[get_preset(preset).name]
    tensors, info = read_weights(path)
    p: Preset = get_preset(info.preset)
    model = TinyVGG.from_preset(p, num_classes=len(info.class_names))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    check_shapes(tensors, expected, str(path.path if isinstance(path, Input) else path))
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()})
    model.eval()
    return model, info
