"""Tests of reference.controllable_features (Bengio, Thomas et al. 2017)."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.misc import flatten

from reference import controllable_features as cf

# -- the grid world ---------------------------------------------------------------------------


def test_render_draws_one_2x2_agent():
    pos = cf.all_positions()
    assert pos.shape == (121, 2)
    s = cf.render(pos)
    assert s.shape == (121, 144) and s.dtype == np.float64
    assert np.all(s.sum(1) == 4)
    img = cf.render([3, 7]).reshape(12, 12)
    assert np.array_equal(np.argwhere(img == 1), [[3, 7], [3, 8], [4, 7], [4, 8]])
    # distinct positions give distinct images
    assert len({tuple(r) for r in s}) == 121


def test_moves_and_walls():
    a = np.arange(4)
    centre = np.full((4, 2), 5)
    assert cf.step(centre, a).tolist() == [[4, 5], [6, 5], [5, 4], [5, 6]]
    top_left = np.zeros((4, 2), dtype=int)
    assert cf.step(top_left, a).tolist() == [[0, 0], [1, 0], [0, 0], [0, 1]]
    bottom_right = np.full((4, 2), 10)
    assert cf.step(bottom_right, a).tolist() == [[9, 10], [10, 10], [10, 9], [10, 10]]
    # every move stays on the grid and changes at most one coordinate by one
    pos = np.repeat(cf.all_positions(), 4, axis=0)
    nxt = cf.step(pos, np.tile(a, 121))
    assert nxt.min() == 0 and nxt.max() == 10
    assert np.all(np.abs(nxt - pos).sum(1) <= 1)
    # 11 positions per wall: exactly 44 of the 484 (state, action) pairs are blocked
    assert np.sum(np.all(nxt == pos, axis=1)) == 44
    assert np.array_equal(cf.step_all_actions(centre[:1])[0], cf.step(centre, a))


def test_action_noise_rate(rng):
    n, p = 20000, 0.4
    nxt = cf.step(np.full((n, 2), 5), np.full(n, 3), rng, noise=p)
    other = np.mean(np.any(nxt != [5, 6], axis=1))
    expected = p * 3 / 4        # a replacement is another action 3 times in 4
    assert abs(other - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    assert np.array_equal(cf.step(np.full((5, 2), 5), np.full(5, 3), rng, noise=0.0),
                          np.tile([5, 6], (5, 1)))


def test_trajectory_and_replay_sampling(rng):
    traj = cf.StateSampler("trajectory", batch=50)
    a, b = traj.sample(rng), traj.sample(rng)
    stream = np.concatenate([a, b])
    assert np.all(np.abs(np.diff(stream, axis=0)).sum(1) <= 1)   # one move at a time
    rep = cf.StateSampler("replay", batch=20, buffer_size=30)
    for _ in range(3):
        batch = rep.sample(rng)
    assert len(rep.buffer) == 30 and batch.shape == (20, 2)
    assert {tuple(x) for x in batch} <= {tuple(x) for x in rep.buffer}
    pos, acts = cf.rollout([0, 0], 10, rng)
    assert pos.shape == (11, 2) and acts.shape == (10,)
    assert np.array_equal(pos[1:], cf.step(pos[:-1], acts))


# -- selectivity (Eq. (1)) ------------------------------------------------------------------


@pytest.mark.parametrize("variant", cf.VARIANTS)
def test_selectivity_is_one_when_only_feature_k_moves(variant):
    f = np.array([0.3, -1.0, 2.0])
    f2 = f + np.array([0.0, 0.7, 0.0])
    sel = cf.selectivity(f, f2, variant=variant)
    assert np.allclose(sel, [0, 1, 0])
    assert cf.selectivity(f, f2, k=1, variant=variant) == pytest.approx(1.0)


def test_selectivity_when_all_move_equally():
    f = np.zeros(4)
    assert np.allclose(cf.selectivity(f, f + 0.5, variant="abs"), 0.25)
    assert np.allclose(cf.selectivity(f, f - 0.5, variant="abs"), 0.25)
    assert np.allclose(cf.selectivity(f, f + 0.5, variant="directed"), 0.25)


def test_selectivity_of_a_plus_minus_pair():
    f, f2 = np.zeros(3), np.array([1.0, -1.0, 0.0])     # features (x, -x, y), agent moves +x
    assert np.allclose(cf.selectivity(f, f2, variant="abs"), [0.5, 0.5, 0])
    assert np.allclose(cf.selectivity(f, f2, variant="positive"), [1, 0, 0])
    assert np.allclose(cf.selectivity(f, f2, variant="directed"), [1, -1, 0])
    assert np.allclose(cf.selectivity(f, f2, variant="signed"), [1, -1, 0])   # alias
    # moving -x: the partner of the pair is now the fully selective one
    assert np.allclose(cf.selectivity(f, -f2, variant="directed"), [-1, 1, 0])


def test_selectivity_transforms():
    f, f2 = np.zeros(2), np.array([3.0, 1.0])
    s = cf.selectivity(f, f2, variant="abs")
    assert np.allclose(cf.selectivity(f, f2, variant="abs", transform="log"), np.log(s))
    assert np.allclose(cf.selectivity(f, f2, variant="abs", transform="log1p"), np.log1p(s))
    # no change: log is floored, not -inf
    assert np.all(np.isfinite(cf.selectivity(f, f, transform="log")))


@pytest.mark.parametrize("variant", cf.VARIANTS)
def test_no_change_gives_zero_selectivity_and_a_finite_gradient(variant):
    f = np.array([0.2, -0.4, 1.0])
    assert np.all(cf.selectivity(f, f.copy(), variant=variant) == 0)
    g = grad(lambda a: anp.sum(cf.selectivity(a, f, variant=variant)))(f.copy())
    assert np.all(np.isfinite(g))
    # batched, with a wall transition next to a real one
    fs = np.stack([f, f])
    fn = np.stack([f, f + np.array([1.0, 0, 0])])
    g2 = grad(lambda a: anp.sum(cf.selectivity(fs, a, variant=variant)))(fn)
    assert np.all(np.isfinite(g2))
    assert np.allclose(cf.selectivity(fs, fn, variant=variant)[1], [1, 0, 0])


def test_selectivity_is_scale_invariant(rng):
    f, f2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    for v in cf.VARIANTS:
        assert np.allclose(cf.selectivity(f, f2, variant=v),
                           cf.selectivity(7 * f, 7 * f2, variant=v))


# -- the objective and its gradient estimators --------------------------------------------


def _check_directional(fun, params, rng, n=6, eps=1e-5, rtol=1e-4):
    """Central finite differences along random directions against autograd's gradient.

    (autograd's check_grads uses a 1e-6 relative tolerance, which ReLU kinks crossed by the
    finite-difference step can exceed; directional checks with rtol 1e-4 stay sharp.)
    """
    flat, unflatten = flatten(params)
    g = flatten(grad(fun)(params))[0]
    for _ in range(n):
        v = rng.normal(size=flat.size)
        v /= np.linalg.norm(v)
        num = (fun(unflatten(flat + eps * v)) - fun(unflatten(flat - eps * v))) / (2 * eps)
        assert np.isclose(num, g @ v, rtol=rtol, atol=1e-8), (num, g @ v)


def _small(rng, **kw):
    """A tiny model; biases drawn off zero, so that no ReLU sits exactly at its kink.

    (With three hidden units a state can switch all of them off; a zero bias then puts the
    next layer at the kink, where the gradient is a convention and finite differences see
    half the slope.)
    """
    config = cf.Config(n_features=2, hidden=(3,), decoder_hidden=(3,), policy_hidden=(3,),
                       lam=2.0, **kw)
    params = cf.init_params(config, rng)
    for layer in [lay for v in params.values() if isinstance(v, list) for lay in v]:
        layer["b"] = 0.1 * rng.normal(size=layer["b"].shape)
    return config, params


#: The authors' code's architecture on a tiny model: tanh features, policy head and decoder on
#: the encoder's hidden layer.
AUTHORS_SMALL = dict(policy_input="encoder", feature_activation="tanh", decoder_input="encoder")


@pytest.mark.parametrize("policy_input", ["state", "none", "authors"])
@pytest.mark.parametrize("variant", cf.VARIANTS)
def test_objective_gradient_matches_finite_differences(rng, variant, policy_input):
    kw = AUTHORS_SMALL if policy_input == "authors" else {"policy_input": policy_input}
    config, params = _small(rng, variant=variant, **kw)
    pos = np.array([[0, 0], [3, 4], [10, 7]])
    _check_directional(lambda p: cf.objective(p, pos, config), params, rng)


def test_uniform_surrogate_gradient_matches_finite_differences(rng):
    config, params = _small(rng, estimator="uniform", **AUTHORS_SMALL)
    pos = np.array([[2, 2], [5, 9], [0, 4]])
    acts = np.array([0, 3, 1])
    nxt = cf.step(pos, acts)
    _check_directional(lambda p: cf.uniform_surrogate(p, pos, acts, nxt, config), params, rng)


@pytest.mark.parametrize("policy_input", ["state", "none"])
def test_reinforce_surrogate_gradient_matches_finite_differences(rng, policy_input):
    config, params = _small(rng, policy_input=policy_input, estimator="reinforce")
    pos = np.array([[2, 2], [5, 9]])
    acts = np.array([[0, 3], [1, 2]])
    nxt = cf.step(np.broadcast_to(pos[:, None], (2, 2, 2)), acts)
    adv = rng.normal(size=(2, 2))
    _check_directional(lambda p: cf.reinforce_surrogate(p, pos, acts, nxt, adv, config),
                       params, rng)


def _mean_gradient_z_scores(estimate, exact, rng, groups=40):
    """z-scores, along random directions, of the mean of ``groups`` estimates against exact."""
    means = np.array([estimate() for _ in range(groups)])
    dirs = rng.normal(size=(8, exact.size))
    proj = means @ dirs.T                                             # (groups, 8)
    return (proj.mean(0) - dirs @ exact) / (proj.std(0, ddof=1) / np.sqrt(groups))


@pytest.mark.parametrize("policy_input", ["state", "none"])
def test_reinforce_is_unbiased_against_the_exact_expectation(rng, policy_input):
    """Algorithm 1's REINFORCE gradient (as `train` calls it) averages to the exact gradient."""
    config, params = _small(rng, policy_input=policy_input, estimator="reinforce")
    if policy_input == "none":   # move the (zero-initialised) policies off the uniform
        params["pi_const"]["b"] = rng.normal(size=params["pi_const"]["b"].shape)
    base = np.array([[1, 1], [4, 6], [9, 2]])
    exact = flatten(grad(cf.objective)(params, base, config))[0]
    pos = np.repeat(base, 200, axis=0)                                # (600, 2)
    baseline = np.full(config.n_features, 0.3)                        # any baseline
    z = _mean_gradient_z_scores(
        lambda: flatten(cf.reinforce_gradient(params, pos, config, config.lam, rng,
                                              baseline)[1])[0], exact, rng)
    assert np.all(np.abs(z) < 4), z


def test_uniform_estimator_is_unbiased_against_the_exact_expectation(rng):
    """The authors' code's one-uniform-action form averages to the exact gradient."""
    config, params = _small(rng, estimator="uniform", **AUTHORS_SMALL)
    base = np.array([[1, 1], [4, 6], [9, 2]])
    exact = flatten(grad(cf.objective)(params, base, config))[0]
    pos = np.repeat(base, 200, axis=0)
    z = _mean_gradient_z_scores(
        lambda: flatten(cf.uniform_gradient(params, pos, config, config.lam, rng)[1])[0],
        exact, rng)
    assert np.all(np.abs(z) < 4), z
    # a single update's J estimate is scaled to the exact J (a factor 4 for 4 actions)
    J, _ = cf.expected_selectivity(params, pos)
    J_hat = np.mean([cf.uniform_gradient(params, pos, config, config.lam, rng)[2]
                     for _ in range(20)], axis=0)
    assert np.allclose(J_hat, np.mean(J, axis=0), atol=0.05)


def test_exact_selectivity_is_the_policy_average(rng):
    config, params = _small(rng)
    pos = np.array([[0, 0], [5, 5]])
    # state-independent policies start uniform: J is the plain mean over the four actions
    J, sel = cf.expected_selectivity(params, pos)
    assert np.allclose(J, np.mean(sel, axis=1))
    # the blocked moves at the corner (up, left) have zero selectivity for every feature
    assert np.all(sel[0, [0, 2]] == 0)
    # a policy sure of "right" scores the selectivity of "right"
    params["pi_const"]["b"] = np.array([0, 0, 0, 50.0, 0, 0, 0, 50.0])
    J, sel = cf.expected_selectivity(params, pos)
    assert np.allclose(J, sel[:, 3], atol=1e-12)


def test_sample_actions_follow_the_policies(rng):
    config, params = _small(rng)
    params["pi_const"]["b"] = np.array([3.0, 0, 0, 0, 0, 0, 0, 2.0])   # pi_0 up, pi_1 right
    n = 4000
    acts = cf.sample_actions(params, np.full((n, 2), 5), rng)         # (n, K)
    pi = np.exp(cf.policy_log_probs(params, cf.render(np.full((1, 2), 5))))[0]   # (K, 4)
    for k in range(2):
        freq = np.bincount(acts[:, k], minlength=4) / n
        assert np.all(np.abs(freq - pi[k]) < 4 * np.sqrt(pi[k] * (1 - pi[k]) / n) + 1e-12)


def test_transition_selectivity_matches_selectivity_of_the_encoded_states(rng):
    config, params = _small(rng, policy_input="state")
    pos = np.array([[0, 0], [4, 7], [10, 10]])
    nxt = cf.step_all_actions(pos)                                    # (3, 4, 2)
    sel = cf.transition_selectivity(params, pos, nxt, "abs")
    h = cf.encode(params, cf.render(pos))
    for b in range(3):
        for a in range(4):
            h2 = cf.encode(params, cf.render(nxt[b, a][None]))[0]
            assert np.allclose(sel[b, a], cf.selectivity(h[b], h2, variant="abs"))
    # the sampled rewards are the diagonal: feature k scored on policy k's transition
    acts = np.array([[0, 3], [1, 2], [2, 0]])
    nxt_k = cf.step(np.broadcast_to(pos[:, None], (3, 2, 2)), acts)
    r = cf.sampled_selectivity(params, pos, acts, nxt_k, config)
    full = cf.transition_selectivity(params, pos, nxt_k, config.variant)
    assert np.allclose(r, np.einsum("bkk->bk", full))


def test_reinforce_baseline_starts_at_the_first_mean_and_then_decays(rng):
    config, params = _small(rng, estimator="reinforce")
    pos = cf.sample_positions(16, rng)
    _, _, r1, b1 = cf.reinforce_gradient(params, pos, config, config.lam, rng)
    assert np.allclose(b1, r1)
    _, _, r2, b2 = cf.reinforce_gradient(params, pos, config, config.lam, rng, b1)
    d = config.baseline_decay
    assert np.allclose(b2, d * b1 + (1 - d) * r2)
    value, g, J = cf.exact_gradient(params, pos, config, config.lam)
    assert np.isclose(value, cf.objective(params, pos, config))
    assert np.allclose(J, cf.expected_selectivity(params, pos)[0].mean(0))


# -- training and measures ----------------------------------------------------------------


def test_alignment_of_hand_made_features(rng):
    """A linear encoder reading x and -y from the image is perfectly aligned."""
    config = cf.Config(n_features=2, hidden=(), decoder_hidden=(4,))
    params = cf.init_params(config, rng)
    col = np.tile(np.arange(12.0), 12).reshape(144)
    row = np.repeat(np.arange(12.0), 12)
    params["f"][0]["W"] = np.stack([col / 4, -row / 4], axis=1)
    params["f"][0]["b"] = np.zeros(2)
    a = cf.alignment(params)
    assert np.allclose(a["corr"], [[1, 0], [0, 1]], atol=1e-12)
    assert np.allclose(a["eta"], [[1, 0], [0, 1]], atol=1e-12)
    ps = cf.policy_selectivity(params, "directed")
    # best action: right for f_0 = x, up for f_1 = -y; blocked in one column / row
    assert np.allclose(ps["best"], 110 / 121)


def test_constant_feature_has_zero_correlation_and_the_walls_set_the_ceiling(rng):
    config = cf.Config(n_features=2, hidden=(), decoder_hidden=(4,))
    params = cf.init_params(config, rng)
    params["f"][0]["W"][:, 1] = 0.0                                   # f_1 is constant
    a = cf.alignment(params)
    assert np.all(np.isfinite(a["corr"])) and np.all(a["corr"][1] == 0)
    assert np.all(a["eta"][1] == 0)
    # both policies prefer "right": blocked in the last column, 11 of 121 states
    params["pi_const"]["b"] = np.array([0, 0, 0, 1.0, 0, 0, 0, 1.0])
    assert np.allclose(cf.selectivity_ceiling(params), 110 / 121)
    params["pi_const"]["b"] = np.array([0, 0, 0, 1.0, 1.0, 0, 0, 0])   # right, up
    assert np.allclose(cf.selectivity_ceiling(params), 110 / 121)


def test_summarise_and_gap():
    recs = [{"align": a, "corr_x": a, "corr_y": a, "eta_x": a, "eta_y": a,
             "selectivity_mean": 0.5, "selectivity_native": 0.4, "ceiling": np.array([1.0]),
             "aligned": a >= 0.9, "recon": 1.0, "seconds": 2.0} for a in (0.95, 0.85, 0.91)]
    s = cf.summarise(recs, prefix="x_")
    assert s["x_align_mean"] == pytest.approx(0.9033333333)
    assert s["x_seeds_aligned"] == 2 and s["x_n_seeds"] == 3
    assert s["x_corr_x_median"] == pytest.approx(0.91)
    g, se = cf.gap(recs, [dict(r, align=r["align"] - 0.1) for r in recs])
    assert g == pytest.approx(0.1)
    assert se == pytest.approx(np.sqrt(2 * np.var([0.95, 0.85, 0.91], ddof=1) / 3))


def test_short_run_beats_the_plain_autoencoder():
    """A short seeded run (1000 updates) aligns better and is more selective than lam = 0."""
    ae = cf.train(cf.Config(lam=0, steps=1000), np.random.default_rng(0))[1]["final"]
    ic = cf.train(cf.Config(steps=1000), np.random.default_rng(0))[1]["final"]
    assert min(ic["corr_x"], ic["corr_y"]) > min(ae["corr_x"], ae["corr_y"]) + 0.2
    assert ic["selectivity_mean"] > ae["selectivity_mean"] + 0.2


@pytest.mark.parametrize("estimator", ["exact", "reinforce", "uniform"])
def test_train_is_reproducible_and_records_history(estimator):
    config = cf.Config(steps=5, batch=8, estimator=estimator, policy_input="state")
    p1, h1 = cf.train(config, np.random.default_rng(3), eval_every=5)
    p2, h2 = cf.train(config, np.random.default_rng(3))
    assert np.array_equal(flatten(p1)[0], flatten(p2)[0])
    assert not np.array_equal(flatten(p1)[0], flatten(cf.init_params(
        config, np.random.default_rng(3)))[0])                        # it moved
    assert h1["loss"].shape == (5,) and h1["sel"].shape == (5, 4)
    assert len(h1["evals"]) == 1 and h1["final"]["directions"].shape == (4, 4)
    assert np.allclose(h1["final"]["directions"].sum(1), 1)


def test_reinforce_training_step_is_reinforce_gradient():
    """`train`'s REINFORCE branch takes Adam's first step along `reinforce_gradient`."""
    config = cf.Config(steps=1, batch=8, estimator="reinforce", policy_input="state", lr=1e-3)
    trained, hist = cf.train(config, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    params = cf.init_params(config, rng)
    pos = cf.sample_positions(8, rng)
    value, g, r, _ = cf.reinforce_gradient(params, pos, config, config.lam, rng)
    # Adam's first step is -lr * sign(g) (up to its epsilon) wherever g is not tiny
    step = flatten(trained)[0] - flatten(params)[0]
    gf = flatten(g)[0]
    big = np.abs(gf) > 1e-3
    assert np.allclose(step[big], -config.lr * np.sign(gf[big]), rtol=1e-3)
    assert np.isclose(hist["loss"][0], value) and np.allclose(hist["sel"][0], r)


def test_architectures_are_explicit_in_the_parameter_keys(rng):
    # one hidden unit in the policy trunk is a state-dependent policy, not a constant one
    config = cf.Config(policy_input="state", policy_hidden=(1,))
    params = cf.init_params(config, rng)
    assert "pi_heads" in params and "pi_const" not in params
    log_pi = cf.policy_log_probs(params, cf.render(cf.all_positions()))
    assert log_pi.shape == (121, 4, 4) and np.all(np.isfinite(log_pi))
    cf.train(cf.Config(policy_input="state", policy_hidden=(1,), steps=2, batch=4), rng)
    # the authors' code's model: tanh features, head and decoder on the encoder's hidden layer
    params = cf.init_params(cf.Config(**cf.AUTHORS), rng)
    assert {"f_tanh", "g_enc", "pi_enc"} <= set(params)
    h = cf.encode(params, cf.render(cf.all_positions()))
    assert h.shape == (121, 6) and np.all(np.abs(h) < 1)
    assert params["g_enc"][0]["W"].shape[0] == cf.AUTHORS["hidden"][0]
    assert cf.policy_log_probs(params, cf.render([[3, 3]])).shape == (1, 6, 4)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("kw, match", [
    (dict(lam=-1.0), "lam"),
    (dict(variant="cosine"), "variant"),
    (dict(transform="sqrt"), "transform"),
    (dict(noise=1.5), "noise"),
    (dict(noise=-0.1), "noise"),
    (dict(n_features=0), "n_features"),
    (dict(estimator="gumbel"), "estimator"),
    (dict(sampling="sorted"), "sampling"),
    (dict(steps=0), "steps"),
    (dict(lr=0.0), "lr"),
    (dict(policy_input="pixels"), "policy_input"),
    (dict(feature_activation="relu"), "feature_activation"),
    (dict(decoder_input="image"), "decoder_input"),
    (dict(policy_input="encoder", hidden=()), "hidden"),
])
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        cf.Config(**kw)


def test_bad_inputs(rng):
    with pytest.raises(ValueError, match="variant"):
        cf.selectivity(np.zeros(2), np.ones(2), variant="cosine")
    with pytest.raises(ValueError, match="same number of features"):
        cf.selectivity(np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="k must"):
        cf.selectivity(np.zeros(2), np.ones(2), k=2)
    with pytest.raises(ValueError, match="shape"):
        cf.render(np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match=r"\[0, 10\]"):
        cf.render([[0, 11]])
    with pytest.raises(ValueError, match="actions must have shape"):
        cf.step(np.zeros((3, 2), dtype=int), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="actions must be integers"):
        cf.step(np.zeros((1, 2), dtype=int), np.array([4]))
    with pytest.raises(ValueError, match="noise"):
        cf.step(np.zeros((1, 2), dtype=int), np.array([0]), rng, noise=2.0)
    with pytest.raises(ValueError, match="rng"):
        cf.step(np.zeros((1, 2), dtype=int), np.array([0]), None, noise=0.5)
    params = cf.init_params(cf.Config(), rng)
    with pytest.raises(ValueError, match=r"\(B, 144\)"):
        cf.encode(params, np.zeros((2, 100)))
    with pytest.raises(ValueError, match="Generator"):
        cf.train(cf.Config(steps=1), np.random.RandomState(0))
