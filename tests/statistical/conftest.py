"""Shared set-up of the statistical validation suite (VALIDATION.md section A).

The helper module :mod:`kmc_stat_helpers` lives next to the tests; its directory is put on
``sys.path`` here so that the tests can import it under any pytest import mode.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
