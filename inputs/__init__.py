"""Example input decks (``*.toml``) and material sets (``materials/*.toml``) shipped with kmc.

This folder of the source tree installs as the package data ``kmc.inputs``; the code reads it
with :mod:`importlib.resources` (:mod:`kmc.decks`, :func:`kmc.materials.materials_dir`), so
the files are found after any kind of install. ``kmc decks`` lists the decks and copies one
into the working directory.
"""
