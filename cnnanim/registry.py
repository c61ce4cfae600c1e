"""Scene discovery: every :class:`~cnnanim.scene.CnnScene` with a ``cli_name`` in ``scenes/``."""

from __future__ import annotations

import importlib
import pkgutil

from cnnanim.errors import UnknownNameError


def all_scenes() -> dict[str, type]:
    """Scene name -> class, for every scene module in the ``scenes/`` folder, sorted by name."""
    import cnnanim_scenes

    from cnnanim.scene import CnnScene

    found: dict[str, type] = {}
    for info in sorted(pkgutil.iter_modules(cnnanim_scenes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cnnanim_scenes.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, CnnScene) and obj.cli_name
                    and obj.__module__ == module.__name__):
                found[obj.cli_name] = obj
    return dict(sorted(found.items()))


def get_scene(name: str) -> type:
    """The scene class called ``name``; an unknown name lists the valid ones."""
    scenes = all_scenes()
    try:
        return scenes[name]
    except KeyError:
        raise UnknownNameError("scene", name, list(scenes)) from None
