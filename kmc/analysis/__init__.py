"""Statistical analysis of datasets and ensembles (arrays or xarray in, numbers and reports out).

=====================  ==========================================================================
module                 contents
=====================  ==========================================================================
``transport``          lattice-gas tracer diffusion and drift (:func:`lattice_gas_transport`)
``microstructure``     microstructure statistics (:func:`microstructure_report`)
``survival``           time to short circuit: Kaplan-Meier survival with censoring, censored
                       Weibull fits
``scaling``            medians per sweep point, power-law and Arrhenius fits of the medians with
                       bootstrap intervals, censored times from datasets
=====================  ==========================================================================

Everything below is re-exported here, so ``from kmc.analysis import ...`` works for each name.
"""
from .microstructure import microstructure_report
from .scaling import (ArrheniusFit, PowerLawFit, SweepMedians, arrhenius_fit, censored_times,
                      power_law_fit, sweep_medians)
from .survival import KaplanMeier, WeibullFit, kaplan_meier, weibull_fit
from .transport import Transport, lattice_gas_transport

__all__ = [
    "ArrheniusFit", "KaplanMeier", "PowerLawFit", "SweepMedians", "Transport", "WeibullFit",
    "arrhenius_fit", "censored_times", "kaplan_meier", "lattice_gas_transport",
    "microstructure_report", "power_law_fit", "sweep_medians", "weibull_fit",
]
