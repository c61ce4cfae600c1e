"""The numbers of the softmax scene: logits, their exponentials, probabilities, rescaling, argmax.

Pure numpy (no manim, no torch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnanim.explain import maths
from cnnanim.explain.fit import ClassRows, class_rows
from cnnanim.explain.numbers import fmt, number_word

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def fmt_exp(value: float, digits: int = 4) -> str:
    """A positive number with ``digits`` significant digits, ``1.234×10⁻⁶`` when very small/large."""
    s = f"{value:#.{digits}g}"  # '#' keeps trailing zeros (1.060, not 1.06)
    if "e" not in s:
        return s.rstrip(".")
    mant, exp = s.split("e")
    return f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"


_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def parse_shown(text: str) -> float:
    """The value of a number as shown (``0.6861``, ``5.516×10⁻⁶``)."""
    if "×10" in text:
        mant, exp = text.split("×10")
        return float(mant) * 10.0 ** int(exp.translate(_DIGITS))
    return float(text)


def adds_up(terms: list[str], total: str, formatter) -> bool:
    """True when the shown ``terms`` add up to the shown ``total``: their sum, written by
    ``formatter`` (the one that wrote the total), is ``total``."""
    return formatter(sum(parse_shown(t) for t in terms)) == total


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

    @property
    def rows(self) -> ClassRows:
        """The classes with a row of their own and those of the "others" row (see
        :func:`~cnnanim.explain.fit.class_rows`)."""
        return class_rows(self.probabilities)

    def shown_sums(self) -> list[tuple[list[str], str, bool]]:
        """Each sum the scene writes: its shown terms (one per row: the "others" row's is the
        real sum of its classes), its shown total and whether the terms add up to it (when
        not, the scene marks the total as rounded). The exponentials (4 significant digits),
        the probabilities and the rescaled logits (4 decimals)."""
        def four(v: float) -> str:
            return fmt(v, 4)

        out = []
        rows = self.rows
        for values, total, formatter in ((self.exps, self.total, fmt_exp),
                                          (self.probabilities, float(np.sum(self.probabilities)), four),
                                          (self.rescaled, float(np.sum(self.rescaled)), four)):
            terms = [formatter(float(v)) for v in rows.values(values)]
            shown = formatter(total)
            out.append((terms, shown, adds_up(terms, shown, formatter)))
        return out

    @property
    def quotient_exact(self) -> bool:
        """True when the shown e^z of the top class over the shown sum, to 4 decimals, is the
        shown probability (else the scene writes ``≈``)."""
        t = self.top
        q = parse_shown(fmt_exp(self.exps[t])) / parse_shown(fmt_exp(self.total))
        return fmt(q, 4) == fmt(self.probabilities[t], 4)

    def narration_values(self, lang: str = "en") -> dict[str, str]:
        """The {fields} the narration fills in (``n_word``: the number of classes as a
        ``lang`` sentence says it, ``ten`` / ``十``)."""
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
            "n_classes": str(len(self.class_names)),
            "n_word": number_word(len(self.class_names), lang),
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
