"""One exception hierarchy for everything a user can get wrong or run into.

Every message is a single line that names the key or file, the value, and what is allowed;
the command line prints it without a traceback and exits with status 2.
"""


class KmcError(Exception):
    """Base class of all errors raised on purpose by :mod:`kmc`."""


class ConfigError(KmcError, ValueError):
    """A malformed input deck: syntax, unknown or missing key, bad unit, value out of range."""


class DatasetError(KmcError, ValueError):
    """A missing, unreadable or corrupt dataset file."""


class AnalysisError(KmcError, ValueError):
    """Data a statistical analysis cannot use: mismatched lengths, negative or NaN times, no events."""


class ExtensionMissingError(KmcError, ImportError):
    """The compiled Cython kernels were not built (the package was not installed with pip)."""


class EngineConsistencyError(KmcError, RuntimeError):
    """The debug rebuild found a propensity tree that differs from a from-scratch rebuild."""


class CheckpointError(KmcError, ValueError):
    """A missing, foreign, truncated, corrupt or incompatible checkpoint file."""
