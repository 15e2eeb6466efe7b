"""Shared test fixtures."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: tests are reproducible."""
    return np.random.Generator(np.random.PCG64(20161))
