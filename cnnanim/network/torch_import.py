"""Import a PyTorch ``state_dict`` of the seed's ``CNNModel`` (or of a TinyVGG with CNN Explainer's
layer names) as cnnanim weights, inferring the architecture from the tensor shapes.

The file is read with ``torch.load(weights_only=True)``: a pickle that would run code, or a whole
pickled model, is refused before anything in it runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
from pathlib import Path

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.network.presets import (
    Preset,
    check_supported,
    input_size_for,
    preset_name_of,
)

#: Where a state_dict comes from, said in every error.
SAVE_HINT = 'save the weights with torch.save(model.state_dict(), "model.pth")'

#: The seed's CNNModel (``block_1``, ``block_2``, ``classifier``) -> cnnanim's stage names.
CNNMODEL_LAYERS: dict[str, str] = {"block_1.0": "conv_1_1", "block_1.2": "conv_1_2",
                                   "block_2.0": "conv_2_1", "block_2.2": "conv_2_2",
                                   "classifier.1": "output"}

#: The layers of CNN Explainer's TinyVGG (the names cnnanim's own TinyVGG uses).
EXPLAINER_LAYERS: dict[str, str] = {n: n for n in ("conv_1_1", "conv_1_2", "conv_2_1",
                                                   "conv_2_2", "output")}

#: Prefixes that wrappers add to every key (DataParallel, torch.compile).
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")

#: Keys under which training scripts often nest the state_dict in a checkpoint dict.
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")


def _load_pickle_safely(path: Path) -> object:
    """``torch.load(path, weights_only=True)`` with every failure as one line."""
    import torch

    if not path.is_file():
        raise CnnanimError(f"PyTorch file not found: {path}")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the error says it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        text = str(e)
        code = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        if code:
            raise CnnanimError(
                f"{path} holds a whole pickled model or other code (it names {code.group(1)}), "
                f"which cnnanim never runs; expected a state_dict: {SAVE_HINT}") from None
        detail = next((line.strip() for line in text.splitlines() if "Unsupported" in line),
                      _first_line(e))
        raise CnnanimError(f"{path} is not a file saved by torch.save ({detail}); cnnanim "
                           "reads plain state_dicts and never runs code from a file; "
                           f"{SAVE_HINT}") from None
    except Exception as e:  # zip, EOF, magic-number and storage errors of a broken file
        raise CnnanimError(f"{path} is not a file saved by torch.save ({_first_line(e)}); "
                           f"{SAVE_HINT}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a PyTorch state_dict without running code from the file.

    Accepts a plain state_dict, one nested in a checkpoint dict under ``state_dict``,
    ``model_state_dict`` or ``model``, and keys prefixed by ``module.`` or ``_orig_mod.``.

    Returns
    -------
    dict of str to numpy.ndarray
        float32 arrays keyed as in the file (prefixes removed).
    """
    import torch

    path = Path(path)
    obj = _load_pickle_safely(path)
    if isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        nested = [obj[k] for k in _CHECKPOINT_KEYS if isinstance(obj.get(k), dict)]
        if nested:
            obj = nested[0]
    if not isinstance(obj, dict) or not obj:
        what = "an empty dict" if isinstance(obj, dict) else f"a {type(obj).__name__}"
        raise CnnanimError(f"{path} holds {what}, not a state_dict; {SAVE_HINT}")
    bad = [str(k) for k, v in obj.items()
           if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CnnanimError(f"{path}: {bad[0]!r} is not a tensor, so this is not a state_dict; "
                           f"{SAVE_HINT}")
    for prefix in _WRAPPER_PREFIXES:
        if all(k.startswith(prefix) for k in obj):
            obj = {k[len(prefix):]: v for k, v in obj.items()}
    out = {}
    for k, v in obj.items():
        if not v.is_floating_point():
            raise CnnanimError(f"{path}: {k} holds {v.dtype} values, expected floating-point "
                               "weights; " + SAVE_HINT)
        out[k] = np.ascontiguousarray(v.detach().to(torch.float32).cpu().numpy())
    return out


def _expected_keys(layers: dict[str, str]) -> list[str]:
    return [f"{src}.{kind}" for src in layers for kind in ("weight", "bias")]


def to_stage_names(state: dict[str, np.ndarray], where: str) -> tuple[dict[str, np.ndarray], str]:
    """Rename the seed's CNNModel keys (or CNN Explainer's) to cnnanim's stage names.

    Returns
    -------
    state : dict
        ``conv_1_1.weight`` ... ``output.bias``.
    style : str
        ``CNNModel`` or ``CNN Explainer``.
    """
    seed_like = any(k.split(".")[0] in ("block_1", "block_2", "classifier") for k in state)
    layers, style = (CNNMODEL_LAYERS, "CNNModel") if seed_like else (EXPLAINER_LAYERS,
                                                                     "CNN Explainer")
    expected = _expected_keys(layers)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:6])
                         + (f" (+{len(unexpected) - 6} more)" if len(unexpected) > 6 else ""))
        if missing:
            parts.append("missing " + ", ".join(missing))
        raise CnnanimError(
            f"{where} is not a state_dict of the seed's CNNModel: {'; '.join(parts)}; expected "
            f"exactly {', '.join(_expected_keys(CNNMODEL_LAYERS))} (or CNN Explainer's names "
            f"conv_1_1 ... output); {SAVE_HINT}")
    renamed = {}
    for key, value in state.items():
        layer, kind = key.rsplit(".", 1)
        renamed[f"{layers[layer]}.{kind}"] = value
    return renamed, style


def infer_architecture(state: dict[str, np.ndarray], classes: list[str], *,
                       style: str = "CNNModel", image_size: int | None = None,
                       padding: int | None = None, names: dict[str, str] | None = None,
                       where: str = "the state_dict") -> Preset:
    """The TinyVGG that ``state`` (cnnanim's stage names) belongs to, from its tensor shapes.

    Input channels, hidden units and kernel size come from ``conv_1_1.weight``, the classes from
    ``output.weight``; the classifier's width (hidden x S x S) gives the last map's side S, and
    the input size is the smallest one that ends in S (``4 S`` with padding 1, e.g. 28 for 7).
    The padding is not stored in a state_dict: the default is the seed's ``(k - 1) // 2`` for a
    CNNModel and CNN Explainer's 0 for its names; ``padding`` or ``image_size`` override it.

    Parameters
    ----------
    names : dict, optional
        cnnanim stage key -> the key in the user's file, for error messages.
    """
    def name(key: str) -> str:
        return (names or {}).get(key, key)

    def shape(key: str) -> tuple[int, ...]:
        return tuple(int(d) for d in state[key].shape)

    first = shape("conv_1_1.weight")
    if len(first) != 4 or first[2] != first[3]:
        raise CnnanimError(f"{where}: {name('conv_1_1.weight')} has shape {first}, expected "
                           f"(hidden units, input channels, k, k); {SAVE_HINT}")
    hidden, channels, k = first[0], first[1], first[2]
    out_w = shape("output.weight")
    if len(out_w) != 2:
        raise CnnanimError(f"{where}: {name('output.weight')} has shape {out_w}, expected "
                           f"(classes, hidden units x S x S); {SAVE_HINT}")
    n_classes, width = out_w
    expected = {"conv_1_1.bias": (hidden,), "output.bias": (n_classes,)}
    for layer in ("conv_1_2", "conv_2_1", "conv_2_2"):
        expected[f"{layer}.weight"] = (hidden, hidden, k, k)
        expected[f"{layer}.bias"] = (hidden,)
    for key, want in expected.items():
        if shape(key) != want:
            raise CnnanimError(f"{where}: {name(key)} has shape {shape(key)}, expected {want} "
                               f"(from {name('conv_1_1.weight')} {first} and "
                               f"{name('output.weight')} {out_w}); {SAVE_HINT}")
    side = int(round((width / hidden) ** 0.5)) if width % hidden == 0 else 0
    if side < 1 or hidden * side * side != width:
        raise CnnanimError(f"{where}: {name('output.weight')} takes {width} inputs, expected "
                           f"hidden units x S x S = {hidden} x S x S for some side S; "
                           f"{SAVE_HINT}")
    default = (k - 1) // 2 if style == "CNNModel" else 0
    candidates = ([padding] if padding is not None
                  else [default] + [p for p in range(k) if p != default])
    for p in candidates:
        size = image_size if image_size is not None else input_size_for(side, k, p)
        if size is None:
            continue
        arch = Preset(name="custom", in_channels=channels, image_size=size, hidden_units=hidden,
                      padding=p, classes=tuple(classes), kernel_size=k, pool_size=2)
        if arch.stage_shapes()["max_pool_2"][1:] == (side, side):
            return _named(arch)
    given = " and ".join(filter(None, [f"input size {image_size}" if image_size else "",
                                       f"padding {padding}" if padding is not None else ""]))
    raise CnnanimError(f"{where}: no TinyVGG with kernel {k}{' and ' + given if given else ''} "
                       f"ends in the {hidden}x{side}x{side} maps that {name('output.weight')} "
                       f"({width} inputs) expects")


def _named(arch: Preset) -> Preset:
    from dataclasses import replace

    return replace(arch, name=preset_name_of(arch))


def parse_class_names(classes: str | None, classes_file: str | os.PathLike | None,
                      n: int) -> list[str]:
    """Class names from ``a,b,c`` or a file with one name per line (default ``0`` ... ``n-1``)."""
    if classes is not None and classes_file is not None:
        raise CnnanimError("give --classes or --classes-file, not both")
    if classes_file is not None:
        path = Path(classes_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CnnanimError(f"cannot read the class names file {path}: "
                               f"{getattr(e, 'strerror', None) or e}") from None
        names = [line.strip() for line in text.splitlines() if line.strip()]
        where = f"{path} lists"
    elif classes is not None:
        names = [c.strip() for c in classes.split(",")]
        where = "--classes gives"
    else:
        return [str(i) for i in range(n)]
    if len(names) != n or "" in names:
        empty = " (one is empty)" if "" in names else ""
        raise CnnanimError(f"{where} {len(names)} class names{empty}; the model has {n} outputs, "
                           f"so give {n} names in output order")
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise CnnanimError(f"{where} the class name {dupes[0]!r} twice; every class needs its "
                           "own name")
    return names


def import_torch(path: str | os.PathLike, out: str | os.PathLike, *, classes: str | None = None,
                 classes_file: str | os.PathLike | None = None, image_size: int | None = None,
                 padding: int | None = None) -> Path:
    """Convert a PyTorch state_dict of the seed's CNNModel to a cnnanim weights file.

    Parameters
    ----------
    path : path
        The ``.pth`` written by ``torch.save(model.state_dict(), path)``.
    out : path
        The ``.safetensors`` file to write (atomically; nothing is written on any error).
    classes, classes_file : optional
        Class names as ``a,b,c`` or a file with one per line (default ``0`` ... ``N-1``).
    image_size, padding : int, optional
        Override the inferred input size and padding (see :func:`infer_architecture`).

    Returns
    -------
    Path
        ``out``.
    """
    from cnnanim.network.images import describe_preprocessing
    from cnnanim.network.weights import WeightsInfo, save_weights, source_command

    path = Path(path)
    raw = read_state_dict(path)
    state, style = to_stage_names(raw, str(path))
    names = {k: k for k in state}
    if style == "CNNModel":
        back = {v: k for k, v in CNNMODEL_LAYERS.items()}
        names = {k: f"{back[k.rsplit('.', 1)[0]]}.{k.rsplit('.', 1)[1]}" for k in state}
    n = int(state["output.weight"].shape[0]) if state["output.weight"].ndim == 2 else 0
    class_names = parse_class_names(classes, classes_file, n) if n else []
    arch = infer_architecture(state, class_names, style=style, image_size=image_size,
                              padding=padding, names=names, where=str(path))
    check_supported(arch, str(path))
    command = source_command("cnnanim", "weights", "import-torch", path, options=[
        ("-o", out), ("--classes", classes), ("--classes-file", classes_file),
        ("--image-size", image_size), ("--padding", padding)])
    info = WeightsInfo(
        preset=arch.name, class_names=list(arch.classes),
        preprocessing=describe_preprocessing(arch),
        source=command,
        extra={"origin": f"PyTorch state_dict ({style} layer names) {path.name}",
               "state_dict_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
               "inferred": "input channels, hidden units, classes, kernel from the tensor "
                           "shapes; input size from the classifier's width; padding "
                           + ("given" if padding is not None else
                              "from the input size" if image_size is not None else
                              "the seed's (k-1)//2" if style == "CNNModel" else
                              "CNN Explainer's 0")},
        architecture=arch.architecture())
    return save_weights(out, state, info)
