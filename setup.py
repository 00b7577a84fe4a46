"""Build the Cython kMC kernels in ``ext/`` as extension modules of the ``kmc`` package.

Compiler directives are set once here: bounds checks and negative indexing off, C division.
Set ``KMC_DEBUG_BUILD=1`` to build a bounds-checked variant (for CI debugging).
"""
import os
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("KMC_DEBUG_BUILD", "0") == "1"
directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
}
extensions = [
    Extension(
        f"kmc.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include(), "ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
    )
    for pyx in sorted(Path("ext").glob("_*.pyx"))
]

setup(ext_modules=cythonize(extensions, include_path=["ext"], compiler_directives=directives))
