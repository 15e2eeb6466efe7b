r"""Tests for reference.matching_networks on synthetic data: the kernel, FCE, episodes, errors.

The real-data tests (leakage against Lake et al.'s runs, a short training run against the
pixel baseline) are in ``test_matching_networks_data.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad
from autograd.test_util import check_grads

import reference.matching_networks as mn


def _images(rng, chars=12, drawers=6):
    """Random blobs, one pattern per character plus small per-drawer noise."""
    base = (rng.random((chars, 1, 28, 28)) < 0.15).astype(float)
    return np.clip(base + 0.1 * rng.random((chars, drawers, 28, 28)), 0, 1)


# -- Eq. (2) and Eq. (1) ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["cosine", "dot", "neg_sqdist"])
@pytest.mark.parametrize("scale", [None, 7.0])
def test_attention_rows_are_distributions(rng, kind, scale):
    f, g = rng.normal(size=(5, 8)), rng.normal(size=(9, 8))
    a = mn.attention(f, g, kind, scale)
    assert a.shape == (5, 9)
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, atol=1e-12)


def test_cosine_is_bounded_and_scale_invariant(rng):
    f, g = rng.normal(size=(4, 6)), rng.normal(size=(7, 6))
    c = mn.similarity(f, g)
    assert np.all(np.abs(c) <= 1 + 1e-12)
    np.testing.assert_allclose(mn.similarity(3 * f, 0.5 * g), c, atol=1e-12)
    np.testing.assert_allclose(mn.similarity(f, g, "neg_sqdist"),
                               -((f[:, None] - g[None]) ** 2).sum(-1), atol=1e-10)


def test_prediction_has_no_second_softmax(rng):
    f, g = rng.normal(size=(6, 5)), rng.normal(size=(8, 5))
    y = mn.one_hot(np.array([0, 1, 2, 3, 0, 1, 2, 3]))
    a = mn.attention(f, g)
    y_hat = mn.predict(a, y)
    np.testing.assert_allclose(y_hat, a @ y, atol=1e-14)       # Eq. (1) exactly
    np.testing.assert_allclose(y_hat.sum(1), 1.0, atol=1e-12)
    # a second softmax would flatten the distribution towards uniform
    assert not np.allclose(y_hat, np.exp(y_hat) / np.exp(y_hat).sum(1, keepdims=True))
    np.testing.assert_allclose(mn.log_predict(mn.similarity(f, g), y), np.log(y_hat),
                               atol=1e-12)
    labels = np.array([0, 1, 2, 3, 0, 1])
    loss = mn.episode_loss(f, g, y, labels)
    np.testing.assert_allclose(loss, -np.mean(np.log(y_hat[np.arange(6), labels])), atol=1e-12)


def test_log_predict_is_finite_at_extreme_scales(rng):
    f, g = rng.normal(size=(3, 4)), rng.normal(size=(6, 4))
    y = mn.one_hot(np.array([0, 0, 1, 1, 2, 2]))
    lp = mn.log_predict(1e5 * mn.similarity(f, g), y)
    assert np.all(np.isfinite(lp)) and np.all(lp <= 0)
    np.testing.assert_allclose(np.exp(lp).sum(1), 1.0, atol=1e-9)


def test_unscaled_cosine_caps_one_shot_confidence():
    # best case for the paper's kernel: cosine 1 with the right example, -1 with the rest
    f = np.array([[1.0, 0.0]])
    g = np.array([[1.0, 0.0]] + [[-1.0, 0.0]] * 19)
    p = mn.predict(mn.attention(f, g), np.eye(20))[0, 0]
    np.testing.assert_allclose(p, np.e / (np.e + 19 / np.e))
    assert p < 0.3


# -- the full model -------------------------------------------------------------------------------

def test_conv4_embedding_is_one_by_one(rng):
    params = mn.init_params(rng, width=8, dtype=np.float64)
    e = mn.embed(params["weights"]["conv"], rng.random((5, 28, 28)))
    assert e.shape == (5, 8)


@pytest.mark.parametrize("fce", [False, True])
def test_copies_of_the_query_classify_perfectly(rng, fce):
    params = mn.init_params(rng, width=16, fce=fce, dtype=np.float64)
    images = _images(rng)
    support = images[:10, 0]
    labels = np.arange(10) * 3 + 1                       # arbitrary integer labels
    order = rng.permutation(10)
    pred = mn.classify(params, support, labels, support[order])
    np.testing.assert_array_equal(pred, labels[order])


def test_without_fce_the_model_is_exactly_permutation_invariant(rng):
    params = mn.init_params(rng, width=16, dtype=np.float64)
    images = _images(rng)
    support, query = images[:8, 0], images[:8, 1]
    y = mn.one_hot(np.arange(8))
    lp = mn.log_probs(params["weights"], params["config"], support, y, query)
    perm = rng.permutation(8)
    lp_perm = mn.log_probs(params["weights"], params["config"], support[perm], y[perm], query)
    np.testing.assert_allclose(lp_perm, lp, rtol=0, atol=1e-12)


def test_the_set_encoder_is_exactly_permutation_invariant(rng):
    params = mn.init_params(rng, width=16, fce="set", dtype=np.float64)
    images = _images(rng)
    support, query = images[:8, 0], images[:8, 1]
    y = mn.one_hot(np.arange(8))
    lp = mn.log_probs(params["weights"], params["config"], support, y, query)
    perm = rng.permutation(8)
    lp_perm = mn.log_probs(params["weights"], params["config"], support[perm], y[perm], query)
    np.testing.assert_allclose(lp_perm, lp, rtol=0, atol=1e-12)
    g = rng.normal(size=(6, 16))
    np.testing.assert_allclose(mn.set_g(params["weights"]["set"], g[::-1])[::-1],
                               mn.set_g(params["weights"]["set"], g), atol=1e-12)


def test_set_encoder_gradients_match_finite_differences(rng):
    p = {"set": mn.set_init(4, rng), "g": rng.normal(size=(5, 4))}
    y = mn.one_hot(np.array([0, 1, 2, 0, 1]))
    f = rng.normal(size=(3, 4))

    def loss(p):
        return mn.episode_loss(f, mn.set_g(p["set"], p["g"], T=2), y, np.array([0, 1, 2]),
                               scale=3.0)

    check_grads(loss, modes=["rev"], order=1)(p)


def test_with_fce_predictions_depend_on_the_order(rng):
    params = mn.init_params(rng, width=16, fce=True, dtype=np.float64)
    images = _images(rng)
    support, query = images[:8, 0], images[:8, 1]
    y = mn.one_hot(np.arange(8))
    lp = mn.log_probs(params["weights"], params["config"], support, y, query)
    perm = np.roll(np.arange(8), 3)
    lp_perm = mn.log_probs(params["weights"], params["config"], support[perm], y[perm], query)
    assert np.max(np.abs(lp_perm - lp)) > 1e-6


def test_fce_gradients_match_finite_differences(rng):
    fce = mn.fce_init(4, rng)
    g_prime, f_prime = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    y = mn.one_hot(np.array([0, 1, 2, 0, 1]))
    labels = np.array([0, 1, 2])

    def loss(p):
        g = mn.fce_g(p["fce"], p["g"])
        f = mn.fce_f(p["fce"], p["f"], g, K=3)
        return mn.episode_loss(f, g, y, labels, scale=3.0)

    check_grads(loss, modes=["rev"], order=1)({"fce": fce, "g": g_prime, "f": f_prime})


def test_fce_f_matches_a_hand_written_recursion(rng):
    fce = mn.fce_init(3, rng)
    f_prime, g = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    W, b = fce["f"]["W"], fce["f"]["b"]

    def sig(z):
        return 1 / (1 + np.exp(-z))

    h = c = r = np.zeros((2, 3))
    for _ in range(2):
        z = np.concatenate([f_prime, r, h], axis=1) @ W + b
        i, fg, gg, o = np.split(z, 4, axis=1)
        c = sig(fg) * c + sig(i) * np.tanh(gg)
        h = sig(o) * np.tanh(c) + f_prime
        a = np.exp(h @ g.T)
        r = (a / a.sum(1, keepdims=True)) @ g
    np.testing.assert_allclose(mn.fce_f(fce, f_prime, g, K=2), h, atol=1e-12)


def test_scale_gradient_flows(rng):
    params = mn.init_params(rng, width=8, dtype=np.float64)
    ep = mn.sample_episode(_images(rng), 4, 1, 1, rng)
    y = mn.one_hot(ep["support_labels"], 4)

    def loss(w):
        lp = mn.log_probs(w, params["config"], ep["support"], y, ep["query"])
        return -np.mean(lp[np.arange(4), ep["query_labels"]])

    g = grad(loss)(params["weights"])
    assert np.isfinite(g["log_scale"]) and g["log_scale"] != 0


def test_save_and_load_give_the_same_predictions(rng, tmp_path):
    images = _images(rng)
    params = mn.fit(images, episodes=3, way=4, shot=1, rng=rng, width=8, fce="set",
                    bn_episodes=2)
    mn.save_params(params, tmp_path / "p.npz")
    loaded = mn.load_params(tmp_path / "p.npz")
    s, q = images[:6, 0], images[:6, 1]
    for bn in ("episode", "running"):
        np.testing.assert_array_equal(mn.classify(loaded, s, np.arange(6), q, bn=bn),
                                      mn.classify(params, s, np.arange(6), q, bn=bn))
    assert loaded["config"]["episodes"] == 3


# -- episodes and splits --------------------------------------------------------------------------

def test_episode_shapes_labels_and_drawers(rng):
    images = np.arange(12 * 6, dtype=float).reshape(12, 6, 1, 1) * np.ones((1, 1, 28, 28))
    ep = mn.sample_episode(images, 5, 2, 3, rng, rotations=(0,))
    assert ep["support"].shape == (10, 28, 28) and ep["query"].shape == (15, 28, 28)
    assert sorted(np.bincount(ep["support_labels"])) == [2] * 5
    assert sorted(np.bincount(ep["query_labels"])) == [3] * 5
    for n, (char, rot) in enumerate(ep["classes"]):
        values = np.concatenate([ep["support"][ep["support_labels"] == n, 0, 0],
                                 ep["query"][ep["query_labels"] == n, 0, 0]])
        assert np.all(values // 6 == char) and rot == 0
        assert len(set(values)) == 5                       # five different drawers


def test_all_four_rotations_are_produced(rng):
    images = np.zeros((3, 4, 28, 28))
    images[:, :, :5, :3] = 1.0                             # ink in the top-left corner
    seen = set()
    for _ in range(30):
        ep = mn.sample_episode(images, 4, 1, 1, rng)
        for n, (char, rot) in enumerate(ep["classes"]):
            img = ep["support"][ep["support_labels"] == n][0]
            np.testing.assert_array_equal(img, np.rot90(images[char, 0], rot))
            seen.add(int(rot))
    assert seen == {0, 1, 2, 3}
    np.testing.assert_array_equal(mn.rotate(images[0], 4), images[0])


def test_episodes_from_the_training_split_never_leak(rng):
    names = [f"a{i // 10}/c{i}" for i in range(60)]
    split = mn.split_characters(names, 40, seed=3)
    assert set(split["train"]).isdisjoint(split["test"])
    assert sorted(np.concatenate([split["train"], split["test"]])) == list(range(60))
    images = np.arange(60, dtype=float)[:, None, None, None] * np.ones((60, 5, 28, 28))
    train = images[split["train"]]
    for _ in range(50):
        ep = mn.sample_episode(train, 10, 1, 2, rng)
        used = set(np.unique(np.concatenate([ep["support"], ep["query"]])).astype(int))
        assert used <= set(split["train"])
        assert not mn.matching_images(ep["query"], images[split["test"]]).any()


def test_split_is_recorded_by_seed_and_hash():
    names = [f"x/{i}" for i in range(30)]
    a, b, c = (mn.split_characters(names, 20, s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a["train"], b["train"])
    assert a["hash"] == b["hash"] != c["hash"] and a["seed"] == 1


def test_within_alphabet_episodes(rng):
    images = np.zeros((30, 4, 28, 28))
    alphabets = ["A"] * 6 + ["B"] * 20 + ["C"] * 4
    for _ in range(20):
        ep = mn.sample_episode(images, 20, 1, 1, rng, rotations=(0,), alphabets=alphabets)
        assert {alphabets[c] for c in ep["classes"][:, 0]} == {"B"}


def test_matching_images(rng):
    a = rng.random((4, 28, 28))
    b = np.concatenate([a[[2]], rng.random((3, 28, 28))])
    np.testing.assert_array_equal(mn.matching_images(a, b), [False, False, True, False])


# -- baselines and intervals ---------------------------------------------------------------

def test_baselines_classify_copies(rng):
    images = _images(rng)
    s, labels = images[:8, 0], np.arange(8) + 10
    np.testing.assert_array_equal(mn.pixel_nn(s, labels, s[::-1]), labels[::-1])
    np.testing.assert_array_equal(mn.pixel_nn(s, labels, s, "cosine"), labels)
    feats = rng.normal(size=(8, 5))
    np.testing.assert_array_equal(mn.exemplar_linear(feats, labels, feats), labels)


def test_wilson_interval():
    low, high = mn.wilson_interval(90, 100)
    assert low < 0.9 < high and 0.82 < low < 0.84 and 0.94 < high < 0.95
    assert mn.wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_gives_clear_errors(rng):
    images = np.zeros((5, 4, 28, 28))
    with pytest.raises(ValueError, match="drawers"):
        mn.sample_episode(images, 3, 3, 2, rng)               # 5 > 4 drawers
    with pytest.raises(ValueError, match="classes available"):
        mn.sample_episode(images, 6, 1, 1, rng, rotations=(0,))
    with pytest.raises(ValueError, match="no alphabet"):
        mn.sample_episode(images, 4, 1, 1, rng, rotations=(0,), alphabets=list("aabbc"))
    with pytest.raises(ValueError, match="Generator"):
        mn.sample_episode(images, 3, 1, 1, 0)
    with pytest.raises(ValueError, match="shape"):
        mn.sample_episode(np.zeros((5, 28, 28)), 3, 1, 1, rng)
    params = mn.init_params(rng, width=4)
    with pytest.raises(ValueError, match="same size"):
        mn.classify(params, np.zeros((3, 28, 28)), np.arange(3), np.zeros((2, 14, 14)))
    with pytest.raises(ValueError, match="one label per"):
        mn.classify(params, np.zeros((3, 28, 28)), np.arange(2), np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="integers"):
        mn.classify(params, np.zeros((3, 28, 28)), np.ones(3), np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="population statistics"):
        mn.classify(params, np.zeros((3, 28, 28)), np.arange(3), np.zeros((2, 28, 28)),
                    bn="running")
    with pytest.raises(ValueError, match="one-hot"):
        mn.predict(np.ones((2, 3)) / 3, np.ones((3, 2)))
    with pytest.raises(ValueError, match="similarity"):
        mn.attention(np.ones((2, 3)), np.ones((4, 3)), kind="euclid")
    with pytest.raises(ValueError, match="same D"):
        mn.attention(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        mn.sample_episode(np.full((5, 4, 28, 28), np.nan), 3, 1, 1, rng)
    with pytest.raises(FileNotFoundError):
        mn.load_params("/nonexistent/params.npz")


def test_cosine_gradient_is_finite_for_an_all_zero_embedding():
    """A dead-ReLU embedding (all zeros) must not turn the training gradient into NaN."""
    rng = np.random.default_rng(0)
    g_s = rng.normal(size=(4, 8))
    f_x = np.vstack([np.zeros(8), rng.normal(size=8)])
    y = mn.one_hot(np.arange(4), 4)
    queries = np.array([0, 1])
    g_f = grad(lambda f: mn.episode_loss(f, g_s, y, queries))(f_x)
    g_g = grad(lambda g: mn.episode_loss(f_x, g, y, queries))(g_s)
    assert np.all(np.isfinite(g_f)) and np.all(np.isfinite(g_g))
    assert np.all(np.isfinite(g_f[1])) and np.any(g_f[1] != 0)
