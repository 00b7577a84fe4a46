"""Access to the compiled kMC kernels, with a clear error when they were never built.

Every event loop exists twice: a Cython kernel (``ext/_lattice_gas.pyx``, ``ext/_plating.pyx``)
and its pure-Python twin (:mod:`kmc.reference`). Both take the same arguments, consume the same
random stream and pick the same events; :func:`lattice_gas_kernel` and :func:`plating_kernel`
choose between them.

The integer codes and input checks the kernels share live in :mod:`kmc.codes` (imported by
the kernels, the twins and this module; it imports none of them).
"""
from __future__ import annotations

import importlib

from . import reference
from .codes import DEBUG_MISMATCH
from .errors import EngineConsistencyError, ExtensionMissingError


def compiled(name: str):
    """Import the compiled extension ``kmc.<name>``.

    Raises
    ------
    ExtensionMissingError
        If the extension was not compiled (the package was not installed with pip).
    """
    try:
        return importlib.import_module(f"kmc.{name}")
    except ImportError as exc:
        raise ExtensionMissingError(
            f"the compiled kMC kernel kmc.{name} is missing ({exc}); install the package with "
            "`pip install .` (or run `make test`), which compiles ext/*.pyx"
        ) from None


def _kernel(engine: str, module: str, cls: str, args, kwargs):
    """The Cython class ``kmc.<module>.<cls>`` or its twin ``kmc.reference.Reference<name>``."""
    if engine == "cython":
        return getattr(compiled(module), cls)(*args, **kwargs)
    if engine == "reference":
        return getattr(reference, "Reference" + cls.removesuffix("Kernel"))(*args, **kwargs)
    raise ValueError(f"engine must be 'cython' or 'reference', got {engine!r}")


def lattice_gas_kernel(engine: str, *args, **kwargs):
    """Construct the lattice-gas event loop: ``engine`` is ``"cython"`` or ``"reference"``."""
    return _kernel(engine, "_lattice_gas", "LatticeGasKernel", args, kwargs)


def plating_kernel(engine: str, *args, **kwargs):
    """Construct the plating event loop (``ext/_plating.pyx`` or its Python twin)."""
    return _kernel(engine, "_plating", "PlatingKernel", args, kwargs)


def check_status(status: int, kernel) -> None:
    """Raise :class:`EngineConsistencyError` if the debug rebuild found a mismatch."""
    if status == DEBUG_MISMATCH:
        raise EngineConsistencyError(
            f"after {kernel.n_events} events at t = {kernel.time:.6g} s the propensity tree differs "
            "from a from-scratch rebuild"
        )
