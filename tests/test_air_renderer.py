"""Tests of the 3-D renderer, its smooth twin and the finite-difference gradient."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from reference.air import renderer, scene3d


def test_renderer_is_deterministic_and_in_range():
    poses = np.array([[0.2, 0.1, 0.4], [-1.0, 1.0, 0.0]])
    a = renderer.render([1, 2], poses, 24)
    b = renderer.render([1, 2], poses.copy(), 24)
    assert a.shape == (24, 24) and np.array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    ground = renderer.render([0], np.array([[50.0, 50.0, 0.0]]), 24)   # object out of view
    assert np.allclose(ground, ground[0, 0])
    assert np.sum(np.abs(a - ground) > 1e-6) > 20                        # objects are visible


def test_occlusion_nearer_object_hides_the_farther_one():
    front = np.array([[0.0, -0.6, 0.0]])
    back = np.array([[0.0, 0.6, 0.0]])
    both = renderer.render([1, 0], np.concatenate([front, back]), 24)
    alone = renderer.render([1], front, 24)
    ground = renderer.render([0], np.array([[50.0, 50.0, 0.0]]), 24)
    covered = np.abs(alone - ground) > 1e-6
    # wherever the front cube is drawn alone, the two-object scene shows exactly the cube
    assert np.allclose(both[covered], alone[covered])
    assert np.any(np.abs(both - alone) > 1e-6)                           # the sphere peeks out


def test_smooth_twin_gradient_agrees_with_finite_differences():
    target = renderer.render([1], np.array([[0.0, 0.0, 0.3]]), 24)
    poses = np.array([[0.3, 0.2, 0.5]])

    def f(P):
        return anp.sum((renderer.render_smooth([1], P, 24) - target) ** 2)

    exact = grad(f)(poses)
    fd = renderer.finite_difference_grad(f, poses, 1e-5)
    assert np.allclose(exact, fd, rtol=1e-4, atol=1e-6)
    assert np.linalg.norm(exact) > 0.1


def test_hard_renderer_tiny_step_sees_no_silhouette_change():
    target = renderer.render([1], np.array([[0.0, 0.0, 0.3]]), 24)
    poses = np.array([[0.3, 0.2, 0.5]])

    def f(P):
        return float(np.sum((renderer.render([1], P, 24) - target) ** 2))

    tiny = renderer.finite_difference_grad(f, poses, 1e-6)
    half_pixel = renderer.finite_difference_grad(f, poses, 0.1)
    # with a tiny step the position derivative sees no pixel flip; half a pixel does
    assert np.all(np.abs(tiny[0, :2]) < 1e-3)
    assert np.linalg.norm(half_pixel[0, :2]) > 1.0


def test_fd_pose_gradient_points_towards_the_true_pose():
    rng = np.random.default_rng(0)
    x, ids, poses = scene3d.make_scenes3d(6, rng)
    agree = 0
    for img, k, p in zip(x, ids, poses):
        off = p + np.array([0.25, 0.0, 0.0])
        _, g = scene3d.fd_pose_grad(img, k, off)
        agree += g[0] < 0
    assert agree >= 5


def test_renderer_bad_input():
    with pytest.raises(ValueError):
        renderer.render([1], np.zeros((1, 2)))
    with pytest.raises(ValueError):
        renderer.render([3], np.zeros((1, 3)))
    with pytest.raises(ValueError):
        renderer.render([], np.zeros((0, 3)))
    with pytest.raises(ValueError):
        renderer.finite_difference_grad(lambda P: 0.0, np.zeros((1, 3)), 0.0)


def test_fit_air3d_runs_and_rejects_a_single_identity_sample():
    calls = []
    params = scene3d.fit_air3d(seed=0, n_iters=2, batch=2, K=3,
                               callback=lambda p, i: calls.append(i))
    logits, mu, sd = scene3d.net_apply(params, scene3d.make_scenes3d(
        3, np.random.default_rng(1))[0])
    # one pose distribution per identity: (scenes, identities, latents)
    assert logits.shape == (3, 3) and mu.shape == (3, 3, 3) and np.all(sd > 0)
    assert np.all((mu >= scene3d.POSE_LOW) & (mu <= scene3d.POSE_HIGH))
    assert calls == [0, 1]
    with pytest.raises(ValueError):
        scene3d.fit_air3d(n_iters=1, K=1)
    with pytest.raises(ValueError, match="identity_gradient"):
        scene3d.fit_air3d(n_iters=1, identity_gradient="reinforce")


def test_fit_air3d_exact_identity_gradient_runs_and_moves_the_weights():
    p0 = scene3d.net_init(np.random.default_rng(0))
    p1 = scene3d.fit_air3d(seed=0, n_iters=2, batch=2, identity_gradient="exact")
    assert all(np.all(np.isfinite(layer["W"])) for layer in p1)
    assert any(not np.allclose(a["W"], b["W"]) for a, b in zip(p0, p1))
