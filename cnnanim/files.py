"""Where things live: the repository, the shared fixtures and datasets, the media folder."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository (or install) root: the folder above the ``cnnanim`` package.
ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The ``shared/`` folder beside the repository (``$CNNANIM_SHARED`` overrides)."""
    env = os.environ.get("CNNANIM_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def dataset_path(name: str) -> Path:
    """Path of a dataset npz under ``shared/datasets`` (``tinyimagenet10_32`` or ``mnist``)."""
    return shared_dir() / "datasets" / name / f"{name}.npz"


def explainer_dir() -> Path:
    """CNN Explainer's released model and example photos (``shared/cnn-explainer``)."""
    return shared_dir() / "cnn-explainer"


def media_dir() -> Path:
    """Default output folder (``$CNNANIM_MEDIA`` overrides): ``media/`` in the current folder."""
    env = os.environ.get("CNNANIM_MEDIA")
    return Path(env) if env else Path.cwd() / "media"


def cache_dir(kind: str) -> Path:
    """A folder of the on-disk cache (``$CNNANIM_CACHE`` overrides ~/.cache/cnnanim)."""
    env = os.environ.get("CNNANIM_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "cnnanim"
    return base / kind
