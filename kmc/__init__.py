"""Field-coupled kinetic Monte Carlo of Li plating through polycrystalline solid electrolytes.

The package follows the model (``MODEL.md``): graph -> field -> events -> run -> dataset ->
ensemble -> analysis. The compiled kernels live in ``kmc._*`` extension modules built from
``ext/*.pyx``; :func:`kmc.engine.kernels` loads them with a clear error if they are missing.
"""
import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kmc-li-plating")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())
