r"""Real-data tests for reference.matching_networks: leakage and a short training run.

They read the official Omniglot files from ``$OMNIGLOT_DIR`` or ``../shared/data/omniglot``
and skip, saying so, when neither exists. Images are decoded once and cached as ``.npz`` by
``load_images`` (the first call decodes the background set, about 15 s).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import reference.matching_networks as mn

REPO = Path(__file__).resolve().parents[1]


def _real_dir():
    for candidate in (os.environ.get("OMNIGLOT_DIR"), REPO.parent / "shared" / "data" / "omniglot"):
        if candidate and (Path(candidate) / "all_runs.zip").is_file():
            return Path(candidate)
    return None


REAL = _real_dir()
pytestmark = pytest.mark.skipif(
    REAL is None, reason="Omniglot data not found: set OMNIGLOT_DIR or provide "
                         "../shared/data/omniglot (the official zips) to run this test")


@pytest.fixture(scope="module")
def data():
    os.environ.setdefault("OMNIGLOT_DIR", str(REAL))
    return mn.load_images("background"), mn.load_images("runs")


def test_no_training_image_equals_a_lake_run_image(data):
    background, runs = data
    run_images = np.stack([np.concatenate([r["train"], r["test"]]) for r in runs])
    assert run_images.shape == (20, 40, 28, 28)
    assert not mn.matching_images(background["images"], run_images).any()
    # the check can fail: a run image planted among the training images is found
    planted = background["images"][:3].copy()
    planted[1, 7] = run_images[4, 11]
    assert mn.matching_images(planted, run_images).sum() == 1


def test_short_training_run_beats_pixels_on_lakes_runs(data):
    background, runs = data
    params = mn.fit(background["images"], episodes=250, way=20, shot=1, width=32,
                    rng=np.random.default_rng(0), bn_episodes=5)
    ours = mn.lake_accuracy(lambda s, l, q: mn.classify(params, s, l, q), runs)["accuracy"]
    pixels = mn.lake_accuracy(mn.pixel_nn, runs)["accuracy"]
    assert pixels < 0.3
    assert ours > pixels + 0.2, (ours, pixels)
