r"""Tests for fine-tuning on the support set and for the large-support paths of Eq. (1)."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad
from autograd.scipy.special import logsumexp

import reference.matching_networks as mn
import importlib
from reference.matching_networks.training import _episode_loss

_ATT = importlib.import_module("reference.matching_networks.attention")


def _images(rng, chars=10, drawers=4):
    """Random blobs, one pattern per character plus small per-drawer noise."""
    base = (rng.random((chars, 1, 28, 28)) < 0.15).astype(float)
    return np.clip(base + 0.1 * rng.random((chars, drawers, 28, 28)), 0, 1)


def _masked(logits, y):
    """Eq. (1) by the full (Q, N, M) masked log-sum-exp."""
    mask = np.where(y.T > 0, 0.0, -1e30)
    return logsumexp(logits[:, None, :] + mask[None], axis=2) - logsumexp(logits, 1)[:, None]


@pytest.mark.parametrize("shots", [1, 3])
def test_log_predict_fast_and_chunked_paths_are_exact(rng, shots, monkeypatch):
    n = 6
    labels = rng.permutation(np.repeat(np.arange(n), shots))
    y = mn.one_hot(labels, n)
    logits = 30 * rng.normal(size=(7, len(labels)))
    monkeypatch.setattr(_ATT, "_MAX_ELEMENTS", 2 * n * len(labels))  # chunks of 2 queries
    np.testing.assert_allclose(mn.log_predict(logits, y), _masked(logits, y), atol=1e-10)
    g = grad(lambda z: mn.log_predict(z, y)[:, 0].sum())(logits)
    g_ref = grad(lambda z: _masked(z, y)[:, 0].sum())(logits)
    np.testing.assert_allclose(g, g_ref, atol=1e-10)


def test_support_episode_leave_one_out_and_shifts(rng):
    images = _images(rng)
    support = np.concatenate([images[:3, :3].reshape(9, 28, 28), images[3:5, 0]])  # 3x3 + 2x1
    labels = np.array([7] * 3 + [8] * 3 + [9] * 3 + [4, 5])
    ep = mn.support_episode(support, labels, rng, max_shift=2)
    np.testing.assert_array_equal(ep["classes"], [4, 5, 7, 8, 9])
    assert ep["query"].shape == (5, 28, 28) and ep["support"].shape == (9 - 3 + 2, 28, 28)
    np.testing.assert_array_equal(np.bincount(ep["support_labels"]), [1, 1, 2, 2, 2])
    # every pseudo-query is a translation of a support image of its class by at most 2 pixels
    for q, n in zip(ep["query"], ep["query_labels"]):
        cls = support[labels == ep["classes"][n]]
        pad = np.pad(cls, ((0, 0), (2, 2), (2, 2)))
        assert any(np.array_equal(q, pad[i, a:a + 28, b:b + 28]) for i in range(len(cls))
                   for a in range(5) for b in range(5))
    # one-shot classes are queried with a copy: no shift gives the image itself
    ep0 = mn.support_episode(support, labels, rng, max_shift=0)
    np.testing.assert_array_equal(ep0["query"][0], support[9])


def test_finetune_matching_lowers_the_support_loss_and_keeps_params(rng):
    images = _images(rng)
    params = mn.init_params(rng, width=8, dtype=np.float64)
    support, labels = images[:5, :2].reshape(10, 28, 28), np.repeat(np.arange(5), 2)
    fixed = [mn.support_episode(support, labels, np.random.default_rng(s)) for s in range(4)]

    def loss(w):
        return np.mean([_episode_loss(w, params["config"], ep) for ep in fixed])

    before = loss(params["weights"])
    w0 = params["weights"]["conv"][0]["w"].copy()
    history = []
    tuned = mn.finetune_matching(params, support, labels, rng=rng, steps=30, step_size=3e-3,
                                 history=history)
    assert len(history) == 30
    assert loss(tuned["weights"]) < 0.8 * before
    np.testing.assert_array_equal(params["weights"]["conv"][0]["w"], w0)  # input untouched
    assert mn.classify(tuned, support, labels + 3, images[:5, 3]).shape == (5,)


@pytest.mark.parametrize("last_block", [False, True])
def test_finetune_head_fits_the_support_set(rng, last_block):
    images = _images(rng)
    conv = mn.init_params(rng, width=8, dtype=np.float64)["weights"]["conv"]
    support, labels = images[:6, 0], np.arange(6) * 2 + 1
    pred, (before, after) = mn.finetune_head(conv, support, labels, support, steps=60,
                                             step_size=0.1, last_block=last_block,
                                             return_loss=True)
    assert before == pytest.approx(np.log(6))                # the zero head is uniform
    assert after < 0.5 * before
    np.testing.assert_array_equal(pred, labels)              # labels taken from the support
    assert mn.finetune_head(conv, support, labels, images[:6, 1], steps=5).shape == (6,)


def test_finetune_bad_input(rng):
    conv = mn.init_params(rng, width=4)["weights"]["conv"]
    params = mn.init_params(rng, width=4)
    s, q = np.zeros((3, 28, 28)), np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="steps"):
        mn.finetune_head(conv, s, np.arange(3), q, steps=0)
    with pytest.raises(ValueError, match="step_size"):
        mn.finetune_head(conv, s, np.arange(3), q, step_size=-1.0)
    with pytest.raises(ValueError, match="one label per"):
        mn.finetune_head(conv, s, np.arange(2), q)
    with pytest.raises(ValueError, match="4 Conv-4 blocks"):
        mn.finetune_head(conv[:3], s, np.arange(3), q)
    with pytest.raises(ValueError, match="Generator"):
        mn.finetune_matching(params, s, np.arange(3), rng=0)
    with pytest.raises(ValueError, match="integers"):
        mn.support_episode(s, np.ones(3), rng)
    with pytest.raises(ValueError, match="max_shift"):
        mn.support_episode(s, np.arange(3), rng, max_shift=-1)
