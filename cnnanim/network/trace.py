"""Activation traces: every stage's input, output and parameters as numpy.

:class:`ActivationTrace` and :class:`StageTrace` are plain numpy containers (no torch) that drawing
code reads; :func:`trace` runs the model once with forward hooks to fill them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cnnanim.errors import CnnanimError, UnknownNameError
from cnnanim.network.presets import PRESETS, STAGE_KIND, STAGES

if TYPE_CHECKING:  # pragma: no cover
    from cnnanim.network.model import TinyVGG


@dataclass
class StageTrace:
    """One stage of one forward pass (batch dimension removed).

    Attributes
    ----------
    name, kind : str
        Stage name (``conv_1_1``...) and kind (conv, relu, pool, flatten, linear).
    input, output : numpy.ndarray
        float32; (C, H, W) for conv/relu/pool, (N,) for flatten output and linear.
    weight, bias : numpy.ndarray or None
        Conv weight (out, in, k, k) or linear weight (out, in); bias (out,).
    kernel_size, stride, padding : int or None
        Window hyper-parameters for conv and pool stages.
    """

    name: str
    kind: str
    input: np.ndarray
    output: np.ndarray
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    kernel_size: int | None = None
    stride: int | None = None
    padding: int | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Output shape."""
        return tuple(self.output.shape)


@dataclass
class ActivationTrace:
    """A whole forward pass of one image through TinyVGG.

    Attributes
    ----------
    preset : str
        Architecture preset.
    image : numpy.ndarray
        The preprocessed input, float32 (C, H, W) in [0, 1].
    stages : dict
        Stage name -> :class:`StageTrace`, in forward order.
    logits, probabilities : numpy.ndarray
        Output scores before and after softmax, shape (classes,).
    class_names : list of str
        Class names in output order.
    """

    preset: str
    image: np.ndarray
    stages: dict[str, StageTrace]
    logits: np.ndarray
    probabilities: np.ndarray
    class_names: list[str]
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> StageTrace:
        try:
            return self.stages[name]
        except KeyError:
            raise UnknownNameError("stage", name, list(self.stages)) from None

    def stage_names(self, kind: str | None = None) -> list[str]:
        """Names of the stages, optionally only those of one kind (conv, relu, pool...)."""
        return [n for n, s in self.stages.items() if kind is None or s.kind == kind]

    # -- the network's sizes, read from the arrays (any TinyVGG: never assume 10) -------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The model's input as (C, H, W), e.g. (1, 28, 28) or (3, 64, 64)."""
        return tuple(int(d) for d in self.image.shape)  # type: ignore[return-value]

    @property
    def in_channels(self) -> int:
        """Input channels: 1 (greyscale) or 3 (RGB)."""
        return int(self.image.shape[0])

    @property
    def image_size(self) -> int:
        """Input height and width in pixels."""
        return int(self.image.shape[1])

    @property
    def num_classes(self) -> int:
        """Number of output classes."""
        return len(self.class_names)

    @property
    def hidden_units(self) -> int:
        """Filters (feature maps) of every conv layer."""
        for st in self.stages.values():
            if st.kind in ("conv", "relu", "pool"):
                return int(st.output.shape[0])
        raise CnnanimError("this trace records no conv, ReLU or pooling stage")

    @property
    def predicted_index(self) -> int:
        """Index of the most probable class."""
        return int(np.argmax(self.probabilities))

    @property
    def predicted_class(self) -> str:
        """Name of the most probable class."""
        return self.class_names[self.predicted_index]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable classes with their probabilities, most probable first."""
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    # -- persistence (so drawing code and other processes need no torch) --------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the trace to an ``.npz`` file atomically."""
        from cnnanim.files import atomic_write

        path = Path(path)
        atomic_write(path, self.to_bytes(), parents=True)
        return path

    def to_bytes(self) -> bytes:
        """The trace as the bytes of an ``.npz`` file (what :meth:`save` writes)."""
        import io

        arrays: dict[str, np.ndarray] = {"image": self.image, "logits": self.logits,
                                         "probabilities": self.probabilities}
        header = {"preset": self.preset, "class_names": self.class_names, "meta": self.meta,
                  "stages": []}
        for s in self.stages.values():
            header["stages"].append({"name": s.name, "kind": s.kind, "kernel_size": s.kernel_size,
                                     "stride": s.stride, "padding": s.padding})
            for key in ("input", "output", "weight", "bias"):
                value = getattr(s, key)
                if value is not None:
                    arrays[f"{s.name}.{key}"] = value
        arrays["header"] = np.array(json.dumps(header))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def load(cls, path) -> "ActivationTrace":
        """Read a trace written by :meth:`save` (a path or a binary file object; no pickle)."""
        try:
            return cls._load(path)
        except Exception as e:  # noqa: BLE001 - BadZipFile, EOFError, a bad CRC... : one line
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CnnanimError(f"{path} is not a cnnanim trace file: {reason}") from None

    @classmethod
    def _load(cls, path: str | os.PathLike) -> "ActivationTrace":
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            stages = {}
            for h in header["stages"]:
                n = h["name"]
                stages[n] = StageTrace(
                    name=n, kind=h["kind"], input=z[f"{n}.input"], output=z[f"{n}.output"],
                    weight=z[f"{n}.weight"] if f"{n}.weight" in z else None,
                    bias=z[f"{n}.bias"] if f"{n}.bias" in z else None,
                    kernel_size=h["kernel_size"], stride=h["stride"], padding=h["padding"])
            return cls(preset=header["preset"], image=z["image"], stages=stages,
                       logits=z["logits"], probabilities=z["probabilities"],
                       class_names=list(header["class_names"]), meta=header.get("meta", {}))


def _as_int(v: object) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def trace(model: "TinyVGG", image: np.ndarray, stages: list[str] | None = None,
          class_names: list[str] | None = None, preset: str = "explainer") -> ActivationTrace:
    """Run ``model`` on one preprocessed ``image`` and record every stage.

    Parameters
    ----------
    model : TinyVGG
        The network (put in eval mode here).
    image : numpy.ndarray
        float32 (C, H, W) in [0, 1], as :func:`cnnanim.network.images.load_image` returns.
    stages : list of str, optional
        Stages to record (default all); an unknown name raises an error listing the valid ones.
    class_names : list of str, optional
        Output class names (default: the model's preset's).
    preset : str
        Preset name stored in the trace.

    Returns
    -------
    ActivationTrace
    """
    import torch

    wanted = list(STAGES) if stages is None else list(stages)
    for name in wanted:
        if name not in STAGES:
            raise UnknownNameError("stage", name, STAGES)
    image = np.asarray(image, dtype=np.float32)
    expected = (model.input_shape, model.image_size, model.image_size)
    if image.shape != expected:
        raise CnnanimError(f"image has shape {image.shape}, the model expects {expected}")

    captured: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def make_hook(name: str):
        def hook(module, inputs, output):
            captured[name] = (inputs[0].detach()[0].numpy().copy(), output.detach()[0].numpy().copy())
        return hook

    model.eval()
    handles = []
    try:
        for name in wanted:
            handles.append(getattr(model, name).register_forward_hook(make_hook(name)))
        with torch.no_grad():
            logits_t = model(torch.from_numpy(image)[None])
            probs_t = torch.softmax(logits_t.double(), dim=1).float()
    finally:
        for h in handles:
            h.remove()

    out: dict[str, StageTrace] = {}
    for name in wanted:
        module = getattr(model, name)
        x, y = captured[name]
        if not np.all(np.isfinite(y)):
            raise CnnanimError(f"the trace is not finite: stage {name} gives NaN or infinite "
                               "values (weights far too large for this image)")
        kind = STAGE_KIND[name]
        st = StageTrace(name=name, kind=kind, input=x, output=y)
        if kind in ("conv", "linear"):
            st.weight = module.weight.detach().numpy().copy()
            st.bias = module.bias.detach().numpy().copy()
        if kind == "conv":
            st.kernel_size = _as_int(module.kernel_size)
            st.stride = _as_int(module.stride)
            st.padding = _as_int(module.padding)
        elif kind == "pool":
            st.kernel_size = _as_int(module.kernel_size)
            st.stride = _as_int(module.stride)
            st.padding = _as_int(module.padding)
        out[name] = st
    if not (np.all(np.isfinite(logits_t.numpy())) and np.all(np.isfinite(probs_t.numpy()))):
        raise CnnanimError("the trace is not finite: the output scores are NaN or infinite "
                           "(weights far too large for this image)")
    if class_names is not None:
        names = list(class_names)
    else:  # the preset's class names when ``preset`` describes this model, else "0", "1"...
        p = PRESETS.get(preset)
        fits = p is not None and p.input_shape == expected and len(p.classes) == model.output_shape
        names = list(p.classes) if fits else [str(i) for i in range(model.output_shape)]
    return ActivationTrace(preset=preset, image=image.copy(), stages=out,
                           logits=logits_t[0].numpy().copy(), probabilities=probs_t[0].numpy().copy(),
                           class_names=names)


def trace_image(image_source=None, weights=None, preset: str = "explainer",
                weights_name: str | None = None) -> ActivationTrace:
    """Load weights (a file or a shipped name) and an image (defaults: the shipped weights of
    ``preset``, the sample photo) and trace them.

    ``image_source`` and ``weights`` are paths, or files already read
    (:class:`cnnanim.files.Input`); ``weights_name`` is what the trace's ``meta`` calls the
    weights (default: their path, or ``default``).
    """
    from cnnanim.files import Input
    from cnnanim.network.images import load_image
    from cnnanim.network.weights import load_model

    model, info = load_model(weights, preset=preset)
    img = load_image(image_source, info.to_preset())
    t = trace(model, img, class_names=info.class_names, preset=info.preset)
    if weights_name is None:
        weights_name = str(weights.path if isinstance(weights, Input) else weights) \
            if weights else "default"
    t.meta = {"weights": weights_name, "source": info.source}
    return t
