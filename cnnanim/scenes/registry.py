"""Scene discovery: every :class:`~cnnanim.scenes.base.CnnScene` with a ``cli_name`` in ``scenes/``."""

from __future__ import annotations

import importlib
import pkgutil

from cnnanim.errors import UnknownNameError

#: Scene modules that failed to import in the last :func:`all_scenes` call -> the error.
BROKEN: dict[str, str] = {}


def all_scenes() -> dict[str, type]:
    """Scene name -> class, for every scene module in the ``scenes/`` folder, sorted by name."""
    import cnnanim.scenes
    from cnnanim.scenes.base import CnnScene

    found: dict[str, type] = {}
    BROKEN.clear()
    for info in sorted(pkgutil.iter_modules(cnnanim.scenes.__path__), key=lambda m: m.name):
        try:
            module = importlib.import_module(f"cnnanim.scenes.{info.name}")
        except Exception as e:  # one broken scene file must not take the others down
            BROKEN[info.name] = f"{type(e).__name__}: {e}"
            continue
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
        if BROKEN:
            from cnnanim.errors import CnnanimError

            broken = "; ".join(f"scenes/{m}.py ({err})" for m, err in BROKEN.items())
            raise CnnanimError(f"unknown scene {name!r}; valid: {', '.join(scenes)}; "
                               f"not loaded: {broken}") from None
        raise UnknownNameError("scene", name, list(scenes)) from None
