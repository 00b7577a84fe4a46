"""Grain orientations: uniform on SO(3), disorientations with cubic symmetry."""
import math

import numpy as np

from kmc.tessellation import disorientation, random_orientations


def test_random_orientations_follow_mackenzie():
    """Uniform orientations on SO(3) give the Mackenzie distribution of cubic disorientations,
    whose mean is 40.74 deg (sd 10.4 deg). With 40000 random pairs the standard error is
    0.052 deg; accept within 4 SE (false failure 6.3e-5). Also the maximum is 62.8 deg."""
    rng = np.random.default_rng(11)
    angles = np.degrees(disorientation(random_orientations(rng, 40000), random_orientations(rng, 40000)))
    se = angles.std(ddof=1) / math.sqrt(angles.size)
    assert abs(angles.mean() - 40.74) < 4 * se
    assert 62.0 < angles.max() <= 62.81
