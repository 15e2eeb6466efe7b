"""Tests of the AIR package: scenes, model, guide, masking, estimator wiring, a short run."""

from dataclasses import replace

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from autograd.misc.flatten import flatten

from reference import air
from reference.air.objective import air_pass, draw_noise, loss_parts

CFG = air.AIRConfig(n_hidden=16, n_embed=32, n_what=4)


def _params(seed=0, config=CFG):
    return air.init_params(config, np.random.default_rng(seed))


# ---------------------------------------------------------------------- scenes
def test_scenes_have_exactly_the_drawn_counts_and_sizes():
    x, c, centres, sizes = air.make_scenes(200, np.random.default_rng(0), counts=(0, 1, 2))
    assert x.shape == (200, 32, 32) and x.min() >= 0 and x.max() <= 1
    assert np.array_equal(np.sum(~np.isnan(centres[:, :, 0]), axis=1), c)
    assert set(np.unique(c)) == {0, 1, 2}
    s = sizes[~np.isnan(sizes)]
    assert s.min() >= 9 and s.max() <= 12
    assert np.all(x[c == 0] == 0) and np.all(x[c > 0].reshape(-1, 1024).max(axis=1) > 0)


def test_scene_generator_raises_instead_of_placing_too_few():
    with pytest.raises(ValueError, match="could not place"):
        air.make_scenes(3, np.random.default_rng(0), counts=(5,), size_range=(12, 12), tries=50)


def test_pools_are_disjoint_and_test_set_fixed():
    tr, te = air.digit_pool("train"), air.digit_pool("test")
    assert len(tr) + len(te) == 1797
    a = {row.tobytes() for row in tr.reshape(len(tr), -1)}
    b = {row.tobytes() for row in te.reshape(len(te), -1)}
    assert len(a & b) <= 2          # sklearn's digits hold a few exact duplicates at most
    x1 = air.test_scenes(20)[0]
    x2 = air.test_scenes(20)[0]
    assert np.array_equal(x1, x2)
    with pytest.raises(ValueError):
        air.digit_pool("validation")


# ---------------------------------------------------------------------- model
def test_count_prior_is_truncated_geometric():
    p = air.count_prior(CFG)
    rho = np.exp(CFG.log_rho)
    assert np.isclose(p.sum(), 1.0)
    assert np.allclose(p[:-1], rho ** np.arange(3) * (1 - rho))
    # the chain of presence bits gives the same probabilities
    n = 2
    chain = sum(air.log_p_pres(np.array([1.0]), CFG) for _ in range(n))
    chain = chain + air.log_p_pres(np.array([0.0]), CFG)
    assert np.isclose(np.exp(chain[0]), p[n])


def test_position_convention_object_lands_where_z_where_says():
    g = np.ones((1, 10, 10))
    z = np.array([[10 / 32, 0.5, -0.25]])
    canvas = air.render(g, z, np.ones(1), CFG)[0]
    rows, cols = np.nonzero(canvas > 0.5)
    centre = np.array([cols.mean(), rows.mean()])
    assert np.allclose(centre, air.where_to_pixels(z, 32)[0], atol=0.05)
    assert np.allclose(centre, [23.5, 11.5], atol=0.05)
    assert cols.max() - cols.min() + 1 == 10             # side s * canvas = 10 px


def test_glimpse_at_true_pose_recovers_the_digit():
    x, c, centres, sizes = air.make_scenes(5, np.random.default_rng(1), counts=(1,))
    cx, cy = centres[:, 0, 0], centres[:, 0, 1]
    z = np.stack([sizes[:, 0] / 32, (cx + 0.5) * 2 / 32 - 1, (cy + 0.5) * 2 / 32 - 1], axis=1)
    glimpse = air.encode(_params()["guide"], x, z, CFG)[0]
    back = air.render(glimpse, z, np.ones(5), CFG)
    # writing the glimpse back reproduces most of the digit's ink
    err = np.sum((back - x) ** 2) / np.sum(x ** 2)
    assert err < 0.25


def test_render_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    g = rng.uniform(size=(2, 10, 10))
    w = rng.normal(size=(2, 32, 32))
    z = np.array([[0.3, 0.1, -0.2], [0.35, -0.3, 0.25]])

    def f(zz):
        return anp.sum(w * air.render(g, zz, np.ones(2), CFG))

    ga = grad(f)(z)
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = 1e-6
        fd[idx] = (f(z + e) - f(z - e)) / 2e-6
    assert np.allclose(ga, fd, rtol=1e-4, atol=1e-4)


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(3)
    mu, sd = np.array([0.3, -1.0]), np.array([0.5, 1.5])
    z = mu + sd * rng.normal(size=(200000, 2))
    logq = -np.log(sd) - 0.5 * ((z - mu) / sd) ** 2
    logp = -0.5 * z ** 2
    assert np.isclose(air.gaussian_kl(mu, sd, 0.0, 1.0), np.mean(np.sum(logq - logp, 1)),
                      rtol=0.02)


# ---------------------------------------------------------------------- guide and masking
def _forced_noise(B, pattern, config=CFG):
    noise = draw_noise(np.random.default_rng(0), B, config)
    noise["u"] = np.array([[0.0 if p else 1.0] * B for p in pattern])
    return noise


def test_z_pres_stays_zero_and_terms_are_masked_after_first_zero():
    x = air.make_scenes(4, np.random.default_rng(4))[0]
    p = _params()
    noise = _forced_noise(4, [1, 0, 1])
    res = air_pass(p, x, noise, CFG)
    assert np.array_equal(np.asarray(res["z_pres"]), [[1] * 4, [0] * 4, [0] * 4])
    assert np.array_equal(np.asarray(res["mask_prev"]), [[1] * 4, [1] * 4, [0] * 4])
    for key in ("log_q_pres", "pres_term", "kl"):
        assert np.all(np.asarray(res[key])[2] == 0)
    assert np.all(np.asarray(res["kl"])[1] == 0)
    # the canvas holds only the first object: a 1-step pass gives the same canvas
    one = air_pass(p, x, {k: v[:1] for k, v in noise.items()}, replace(CFG, max_steps=1))
    assert np.allclose(res["canvas"], one["canvas"])


def test_learning_signals_hold_only_downstream_terms():
    x = air.make_scenes(3, np.random.default_rng(5))[0]
    res = air_pass(_params(), x, _forced_noise(3, [1, 1, 0]), CFG)
    ell = air.learning_signals(res)
    step = np.asarray(res["pres_term"]) - np.asarray(res["kl"])
    ll = np.asarray(res["log_lik"])
    assert np.allclose(ell[0], ll + step.sum(0))
    assert np.allclose(ell[2], ll + step[2])
    assert np.allclose(ell[0] - ell[1], step[0])


def test_leave_one_out_baseline():
    s = np.arange(12.0).reshape(2, 6)      # N=2, K=3 samples of B=2 images
    b = air.leave_one_out_baseline(s, 3)
    assert np.isclose(b[0, 0], (s[0, 2] + s[0, 4]) / 2)
    with pytest.raises(ValueError):
        air.leave_one_out_baseline(s, 1)


# ---------------------------------------------------------------------- baseline isolation
def test_baseline_gets_gradient_only_from_baseline_loss_and_guide_none_from_it():
    x = air.make_scenes(6, np.random.default_rng(6))[0]
    p = _params()
    noise = draw_noise(np.random.default_rng(7), 6, CFG)

    def part(k):
        return lambda q: loss_parts(q, x, noise, CFG, "neural")[k]

    g_mg, g_b = grad(part(0))(p), grad(part(1))(p)
    for key in ("model", "guide"):
        assert np.all(flatten(g_b[key])[0] == 0), f"baseline loss leaks into {key}"
        assert np.any(flatten(g_mg[key])[0] != 0)
    assert np.all(flatten(g_mg["baseline"])[0] == 0), "model/guide loss leaks into baseline"
    assert np.any(flatten(g_b["baseline"])[0] != 0), "baseline gets no gradient"
    # the total loss's gradient is the sum of the two parts
    g_tot = grad(lambda q: air.surrogate_loss(q, x, noise, CFG, "neural")[0])(p)
    assert np.allclose(flatten(g_tot)[0], flatten(g_mg)[0] + flatten(g_b)[0])


# ---------------------------------------------------------------------- bad input
def test_bad_input_errors():
    with pytest.raises(ValueError):
        air.AIRConfig(log_rho=0.5)
    with pytest.raises(ValueError):
        air.AIRConfig(max_steps=0)
    with pytest.raises(ValueError):
        air.make_scenes(0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        air.make_scenes(3, 0)
    p = _params()
    p["config"] = CFG
    with pytest.raises(ValueError, match="shape"):
        air.infer(p, np.zeros((32, 32)))
    with pytest.raises(ValueError, match="NaN"):
        air.infer(p, np.full((2, 32, 32), np.nan))
    with pytest.raises(ValueError):
        air.surrogate_loss(p, np.zeros((2, 32, 32)), draw_noise(np.random.default_rng(0), 2, CFG),
                           CFG, baseline="mean")
    with pytest.raises(ValueError):
        air.count_accuracy([], [])


# ---------------------------------------------------------------------- short run
def test_short_seeded_run_beats_always_predicting_one():
    # a small, fast configuration (about 10 s of CPU); the real runs use the defaults
    params = air.fit(air.AIRConfig(n_hidden=64, n_embed=128), seed=0, n_iters=200, batch=32,
                     lr=3e-3, anneal_prior=0)
    x, c, centres, _ = air.test_scenes(300)
    counts, z_where = air.infer(params, x)
    acc = air.count_accuracy(c, counts)
    always_one = air.count_accuracy(c, np.ones_like(c))
    assert acc > always_one + 0.25, (acc, always_one)
    assert z_where.shape == (300, 3, 3)


def test_presence_floor_keeps_q_inside_its_interval():
    x = air.make_scenes(8, np.random.default_rng(8))[0]
    p = _params()
    p["guide"]["head"]["b"][0] = 50.0          # an extreme logit
    cfg = replace(CFG, q_pres_floor=0.05)
    q = np.asarray(air_pass(p, x, draw_noise(np.random.default_rng(0), 8, cfg), cfg)["q_pres"])
    assert np.all(q >= 0.05 - 1e-12) and np.all(q <= 0.95 + 1e-12) and q.max() > 0.94
    with pytest.raises(ValueError):
        air.AIRConfig(q_pres_floor=0.5)


def test_baseline_has_its_own_step_size():
    from reference.air.training import _step_sizes

    p = _params()
    flat, unflatten = flatten(p)
    sizes = unflatten(_step_sizes(p, 1e-3, 1e-2))
    assert np.all(flatten(sizes["baseline"])[0] == 1e-2)
    assert np.all(flatten(sizes["guide"])[0] == 1e-3)
    assert np.all(flatten(sizes["model"])[0] == 1e-3)
