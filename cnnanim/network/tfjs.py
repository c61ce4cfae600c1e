"""Convert CNN Explainer's released TF.js layers-model (model.json + .bin shards) to safetensors.

Only :mod:`json` and :mod:`numpy` are used (no TensorFlow). Keras stores conv kernels as
``[kh, kw, in, out]`` and flattens NHWC; PyTorch wants ``[out, in, kh, kw]`` and flattens NCHW,
so the kernels are transposed and the dense kernel's input axis is re-ordered.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from cnnanim.errors import CnnanimError
from cnnanim.network.presets import EXPLAINER_CLASSES, get_preset

#: Byte size and numpy type of each TF.js weight dtype this importer accepts.
_DTYPES: dict[str, np.dtype] = {"float32": np.dtype("<f4")}

#: Preprocessing CNN Explainer applies (see shared/cnn-explainer/README.md).
TFJS_PREPROCESSING = ("RGB, 64x64 used as is; larger photos: shorter side scaled to 64, centre crop; "
                      "/255 to float32 in [0, 1]; no mean/std normalisation (CNN Explainer)")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise CnnanimError(f"TF.js model file not found: {path}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CnnanimError(f"{path} is not a TF.js model.json (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise CnnanimError(f"{path} is not valid JSON: {e.msg} at line {e.lineno} "
                           f"column {e.colno}") from None
    except OSError as e:
        raise CnnanimError(f"cannot read {path}: {e.strerror or e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("weightsManifest"), list):
        raise CnnanimError(f"{path} is not a TF.js layers-model (no weightsManifest list)")
    return doc


def read_tfjs_weights(model_json: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every weight of a TF.js layers-model, in Keras layout, keyed by manifest name.

    Parameters
    ----------
    model_json : path
        The ``model.json``; its shards are looked up in the same folder.

    Returns
    -------
    dict of str to numpy.ndarray
        E.g. ``"conv_1_1/kernel"`` -> float32 array of shape ``[3, 3, 3, 10]``.
    """
    path = Path(model_json)
    doc = _read_json(path)
    out: dict[str, np.ndarray] = {}
    for group in doc["weightsManifest"]:
        try:
            paths, specs = list(group["paths"]), list(group["weights"])
        except (KeyError, TypeError):
            raise CnnanimError(f"{path}: a weightsManifest group lacks 'paths' or 'weights'") from None
        chunks = []
        for shard in paths:
            shard_path = path.parent / str(shard)
            if Path(str(shard)).is_absolute() or ".." in Path(str(shard)).parts:
                raise CnnanimError(f"{path}: shard path {shard!r} leaves the model's folder")
            if not shard_path.is_file():
                raise CnnanimError(f"weight shard not found: {shard_path} (listed in {path.name})")
            chunks.append(shard_path.read_bytes())
        buf = b"".join(chunks)
        offset = 0
        for spec in specs:
            try:
                name, shape, dtype = str(spec["name"]), [int(d) for d in spec["shape"]], spec["dtype"]
            except (KeyError, TypeError, ValueError):
                raise CnnanimError(f"{path}: malformed weight entry {spec!r}") from None
            if dtype not in _DTYPES or "quantization" in spec:
                raise CnnanimError(f"{path}: weight {name} has unsupported dtype {dtype!r}"
                                   f"{' (quantized)' if 'quantization' in spec else ''}")
            dt = _DTYPES[dtype]
            n = int(np.prod(shape, dtype=np.int64)) if shape else 1
            end = offset + n * dt.itemsize
            if end > len(buf):
                raise CnnanimError(f"{path}: the shards hold {len(buf)} bytes, but weight {name} "
                                   f"needs bytes {offset}..{end}")
            out[name] = np.frombuffer(buf, dtype=dt, count=n, offset=offset).reshape(shape).astype(np.float32)
            offset = end
        if offset != len(buf):
            raise CnnanimError(f"{path}: the shards hold {len(buf)} bytes, the manifest describes "
                               f"{offset}")
    return out


def convert_tfjs_weights(tf: dict[str, np.ndarray], preset: str = "explainer") -> dict[str, np.ndarray]:
    """Map Keras-layout TF.js weights to the PyTorch TinyVGG state dict of ``preset``.

    Raises
    ------
    CnnanimError
        Naming every missing or mis-shaped tensor.
    """
    from cnnanim.network.weights import check_shapes

    p = get_preset(preset)
    shapes = p.stage_shapes()
    c, k = p.hidden_units, p.kernel_size
    _, s, _ = shapes["max_pool_2"]
    n_out = len(p.classes)
    expected: dict[str, tuple[int, ...]] = {}
    for name in ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"):
        cin = p.in_channels if name == "conv_1_1" else c
        expected[f"{name}/kernel"] = (k, k, cin, c)
        expected[f"{name}/bias"] = (c,)
    expected["output/kernel"] = (s * s * c, n_out)
    expected["output/bias"] = (n_out,)
    check_shapes(tf, expected, "the TF.js model")

    state: dict[str, np.ndarray] = {}
    for name in ("conv_1_1", "conv_1_2", "conv_2_1", "conv_2_2"):
        state[f"{name}.weight"] = np.ascontiguousarray(tf[f"{name}/kernel"].transpose(3, 2, 0, 1))
        state[f"{name}.bias"] = np.ascontiguousarray(tf[f"{name}/bias"])
    # Keras flattens (h, w, c); PyTorch flattens (c, h, w).
    dense = tf["output/kernel"].reshape(s, s, c, n_out).transpose(3, 2, 0, 1).reshape(n_out, c * s * s)
    state["output.weight"] = np.ascontiguousarray(dense)
    state["output.bias"] = np.ascontiguousarray(tf["output/bias"])
    return state


def import_tfjs(model_json_path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Convert CNN Explainer's TF.js model to a cnnanim safetensors weights file.

    Parameters
    ----------
    model_json_path : path
        CNN Explainer's ``model.json`` (its ``group1-shard1of1.bin`` beside it).
    out : path
        The ``.safetensors`` file to write (atomically).

    Returns
    -------
    Path
        ``out``.
    """
    from cnnanim.network.weights import WeightsInfo, save_weights

    path = Path(model_json_path)
    if path.is_dir():
        path = path / "model.json"
    state = convert_tfjs_weights(read_tfjs_weights(path), "explainer")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = WeightsInfo(
        preset="explainer", class_names=list(EXPLAINER_CLASSES), preprocessing=TFJS_PREPROCESSING,
        source=f"cnnanim weights import-tfjs {path} -o {out}",
        extra={"origin": "CNN Explainer (poloclub/cnn-explainer) public/assets/data/model.json",
               "licence": "MIT (Copyright (c) 2020 Polo Club of Data Science)",
               "model_json_sha256": digest,
               "trained_on": "Tiny ImageNet 64x64, 10 classes (by CNN Explainer's authors)"},
        architecture=get_preset("explainer").architecture())
    return save_weights(out, state, info)
