"""Statistical analysis of datasets and ensembles (arrays or xarray in, numbers and reports out).

=====================  ==========================================================================
module                 contents
=====================  ==========================================================================
``transport``          lattice-gas tracer diffusion and drift (:func:`lattice_gas_transport`)
``microstructure``     microstructure statistics (:func:`microstructure_report`)
``morphology``         Li morphology: GB fraction of Li, floating-cluster sizes, depth profiles
                       (:func:`morphology` for one dataset, with the box-counting dimension)
``fractal``            box-counting dimension of a set of sites
``maps``               site maps put in (x, [y,] z) order by dimension name
``report``             the markdown reports and figures of ``kmc analyze``
``survival``           time to short circuit: Kaplan-Meier survival with censoring, censored
                       Weibull fits
``scaling``            medians per sweep point, power-law and Arrhenius fits of the medians with
                       bootstrap intervals, censored times from datasets
``leakage``            the whole cell's apparent electronic conductivity (:func:`leakage_conductivity`)
                       and the reference cell of the leak calibration (:func:`reference_cell`)
=====================  ==========================================================================

Everything below is re-exported here, so ``from kmc.analysis import ...`` works for each name.
"""
from .microstructure import microstructure_report
from .leakage import leakage_conductivity, reference_cell
from .fractal import BoxCounting, box_counting_dimension, unwrap_periodic
from .morphology import (DepthProfile, Morphology, cluster_sizes, depth_profile,
                         floating_cluster_sizes, gb_fraction_of_li, lateral_bond_fraction,
                         morphology)
from .scaling import (ArrheniusFit, PowerLawFit, SweepMedians, arrhenius_fit, censored_times,
                      power_law_fit, sweep_medians)
from .survival import KaplanMeier, WeibullFit, kaplan_meier, weibull_fit
from .transport import Transport, lattice_gas_transport

__all__ = [
    "ArrheniusFit", "BoxCounting", "DepthProfile", "KaplanMeier", "Morphology", "PowerLawFit",
    "SweepMedians", "Transport", "WeibullFit", "arrhenius_fit", "box_counting_dimension",
    "censored_times", "cluster_sizes", "depth_profile", "floating_cluster_sizes",
    "gb_fraction_of_li", "kaplan_meier", "lateral_bond_fraction", "lattice_gas_transport",
    "microstructure_report",
    "morphology", "power_law_fit", "sweep_medians", "unwrap_periodic", "weibull_fit",
]
