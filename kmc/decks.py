"""The example input decks shipped with kmc: list them, find one by name, copy one out.

The decks (``inputs/*.toml`` of the source tree) and the material sets they name
(``inputs/materials/*.toml``) install as the package data ``kmc.inputs`` and are read with
:mod:`importlib.resources`, so they are there after any install: editable, from a wheel or from
an sdist. A deck names its material set (``[material] name = "llzo"``), which is looked up among
the bundled sets (:func:`kmc.materials.materials_dir`), and writes to ``results/...`` relative to
the working directory, so a copied deck runs from any directory::

    kmc decks                              # name, model and description of every deck
    kmc decks copy llzo_polycrystal_2d     # -> ./llzo_polycrystal_2d.toml
    kmc run llzo_polycrystal_2d.toml       # -> results/llzo_polycrystal_2d.nc + .png

Scenario decks (``inputs/scenarios/``: the trends of the seed papers) are named
``scenarios/<stem>``, e.g. ``kmc decks copy scenarios/llzo_current_c7``.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import ConfigError, KmcError

#: Package whose data are the bundled decks (``inputs/`` of the source tree).
INPUTS_PACKAGE = "kmc.inputs"


@dataclass(frozen=True)
class BundledDeck:
    """One example deck shipped with the package.

    Attributes
    ----------
    name : str
        File stem, the name ``kmc decks copy`` takes (``"llzo_polycrystal_2d"``).
    model : str
        The deck's ``model`` key (``"plating"``, ``"microstructure"``, ``"lattice_gas"``).
    description : str
        First sentence of the deck's leading comment, on one line.
    resource : importlib.resources.abc.Traversable
        The file in the installed package (read it with ``resource.read_text()``).
    """

    name: str
    model: str
    description: str
    resource: Traversable


def inputs_files() -> Traversable:
    """The bundled inputs folder (``kmc.inputs``): decks, and material sets in ``materials/``."""
    return resources.files(INPUTS_PACKAGE)


def bundled_decks() -> list[BundledDeck]:
    """Every bundled deck, sorted by name.

    Raises
    ------
    ConfigError
        If a bundled deck is not valid TOML or has no ``model`` (a broken install).
    """
    decks = []
    for name, resource in _deck_resources():
        text = resource.read_text(encoding="utf-8")
        try:
            model = tomllib.loads(text).get("model")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{resource.name}: TOML syntax error: {exc}") from None
        if not isinstance(model, str):
            raise ConfigError(f"{resource.name}: model = {model!r}: a bundled deck needs a model")
        decks.append(BundledDeck(name, model, leading_description(text), resource))
    return decks


def deck_names() -> list[str]:
    """Names of the bundled decks (file stems, sorted)."""
    return [name for name, _ in _deck_resources()]


def find_deck(name: str) -> Traversable:
    """The bundled deck called ``name`` (with or without ``.toml``).

    Raises
    ------
    ConfigError
        One line naming the unknown deck, the closest name and all names.
    """
    names = deck_names()
    stem = name.removesuffix(".toml")
    if stem not in names:
        close = difflib.get_close_matches(stem, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"deck {name!r}: no such bundled deck{hint} "
                          f"(available: {', '.join(names)})")
    return dict(_deck_resources())[stem]


def copy_deck(name: str, dest=".", force: bool = False) -> Path:
    """Copy the bundled deck ``name`` to ``dest`` and return the path written.

    Parameters
    ----------
    name : str
        A name from :func:`deck_names` (``.toml`` may be added).
    dest : str or path-like
        A file path ending in ``.toml``, or a directory (created if missing) that gets
        ``<name>.toml``. Default: the working directory.
    force : bool
        Replace an existing file.

    Raises
    ------
    ConfigError
        For an unknown name (see :func:`find_deck`).
    KmcError
        If the target exists and ``force`` is false, or is a directory.
    """
    resource = find_deck(name)
    dest = Path(dest)
    target = dest if dest.suffix == ".toml" and not dest.is_dir() else dest / resource.name
    if target.is_dir():
        raise KmcError(f"{target}: is a directory; give a file name ending in .toml")
    if target.exists() and not force:
        raise KmcError(f"{target}: file exists; not overwritten (use --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(resource.read_bytes())
    return target


def leading_description(text: str) -> str:
    """First sentence of the comment at the top of a deck, on one line (``""`` if none).

    The comment's first paragraph (up to a bare ``#`` line or the first line that is not a
    comment) is joined into one line and cut after the first ``.``, ``!`` or ``?`` that is
    followed by a capital letter or ends the paragraph.
    """
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("#"):
            break
        line = line.lstrip("#").strip()
        if not line:
            if lines:
                break
            continue
        lines.append(line)
    paragraph = " ".join(lines)
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph, maxsplit=1)[0]


#: Folders of ``kmc.inputs`` whose decks are bundled too, named ``folder/stem``.
DECK_FOLDERS = ("scenarios",)


def _deck_resources() -> list[tuple[str, Traversable]]:
    """(name, file) of every bundled deck, sorted by name: ``inputs/*.toml`` by stem and
    ``inputs/scenarios/*.toml`` as ``scenarios/<stem>``."""
    root = inputs_files()
    found = [(r.name.removesuffix(".toml"), r) for r in root.iterdir()
             if r.is_file() and r.name.endswith(".toml")]
    for folder in DECK_FOLDERS:
        sub = root / folder
        if sub.is_dir():
            found += [(f"{folder}/{r.name.removesuffix('.toml')}", r) for r in sub.iterdir()
                      if r.is_file() and r.name.endswith(".toml")]
    return sorted(found, key=lambda x: x[0])
