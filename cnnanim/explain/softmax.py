"""The numbers of the softmax scene: logits, their exponentials, probabilities, rescaling, argmax.

Pure numpy (no manim, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.numbers import fmt

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_exp(value: float, digits: int = 4) -> str:
    """A positive number with ``digits`` significant digits, ``1.234×10⁻⁶`` when very small/large."""
    s = f"{value:#.{digits}g}"  # '#' keeps trailing zeros (1.060, not 1.06)
    if "e" not in s:
        return s.rstrip(".")
    mant, exp = s.split("e")
    return f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"


@dataclass(frozen=True)
class SoftmaxData:
    """Every number the softmax scene shows, from the trace.

    Attributes
    ----------
    class_names : list of str
    logits, exps, probabilities : numpy.ndarray
        (classes,) float64, from :func:`cnnanim.explain.maths.softmax_terms`.
    total : float
        Sum of the exps.
    rescaled : numpy.ndarray
        Plain rescaling of the logits (:func:`cnnanim.explain.maths.rescale`).
    shift : float
        What rescaling subtracts first (the smallest logit when it is negative, else 0).
    top : int
        Index of the largest logit (the predicted class).
    runner_up : int
        Index of the second largest logit.
    argmax : numpy.ndarray
        One-hot vector of the predicted class (a hard argmax).
    """

    class_names: list
    logits: np.ndarray
    exps: np.ndarray
    total: float
    probabilities: np.ndarray
    rescaled: np.ndarray
    shift: float
    top: int
    runner_up: int
    argmax: np.ndarray

    @property
    def top_name(self) -> str:
        return self.class_names[self.top]

    @property
    def logit_gap(self) -> float:
        """How far the top logit leads the runner-up."""
        return float(self.logits[self.top] - self.logits[self.runner_up])

    @property
    def exp_ratio(self) -> float:
        """How many times the top probability exceeds the runner-up's (e to the logit gap)."""
        return float(self.exps[self.top] / self.exps[self.runner_up])

    def narration_values(self) -> dict[str, str]:
        """The {fields} the narration fills in."""
        t = self.top
        return {
            "top": self.top_name,
            "z_top": fmt(self.logits[t], 2),
            "e_top": fmt_exp(self.exps[t]),
            "total": fmt_exp(self.total),
            "p_top": fmt(self.probabilities[t], 4),
            "r_top": fmt(self.rescaled[t], 4),
            "gap": fmt(self.logit_gap, 2),
            "ratio": fmt(self.exp_ratio, 1),
            "second": self.class_names[self.runner_up],
        }


def softmax_data(trace) -> SoftmaxData:
    """The numbers of the softmax scene for an :class:`~cnnanim.network.trace.ActivationTrace`."""
    z = np.asarray(trace.logits, dtype=np.float64)
    terms = maths.softmax_terms(z)
    order = np.argsort(-z, kind="stable")
    top, second = int(order[0]), int(order[1] if len(order) > 1 else order[0])
    onehot = np.zeros_like(z)
    onehot[top] = 1.0
    return SoftmaxData(class_names=list(trace.class_names), logits=terms.logits, exps=terms.exps,
                       total=terms.total, probabilities=terms.probabilities,
                       rescaled=maths.rescale(z), shift=min(0.0, float(z.min())), top=top,
                       runner_up=second, argmax=onehot)
