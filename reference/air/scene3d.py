r"""AIR with a renderer as the decoder: one object per 3-D scene (Section 3.2 of Eslami et al.).

The decoder is the fixed, non-differentiable [`render`][reference.air.renderer.render]. An
inference network maps the image to a categorical identity and a Gaussian pose
$(p_x, p_z, \theta)$. The pose is reparameterised, and the derivative of the log likelihood with
respect to the sampled pose comes from central finite differences through the renderer (two
renders per latent per sample); the identity gets a likelihood-ratio gradient with a
leave-one-out baseline over $K$ samples per scene. The same network trained by regression on the
true poses and identities is the supervised comparison.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp
from autograd.tracer import getval

from ._checks import check_positive_int, check_rng
from ._layers import mlp_apply, mlp_init
from .renderer import SHAPES, render

__all__ = ["POSE_LOW", "POSE_HIGH", "make_scenes3d", "net_init", "net_apply", "fd_pose_grad",
           "fit_air3d", "fit_supervised3d", "evaluate3d"]

#: Range of the pose (p_x, p_z, yaw): yaw within +-40 degrees (a cube repeats every 90).
POSE_LOW = np.array([-0.8, -0.6, -0.7])
POSE_HIGH = np.array([0.8, 0.8, 0.7])
_SIGMA = 0.1          # likelihood standard deviation of the 3-D images
_FD_STEP = np.array([0.07, 0.07, 0.12])   # about half a pixel of motion per latent


def make_scenes3d(n: int, rng: np.random.Generator, size: int = 24):
    r"""One-object scenes: identity uniform over the shapes, pose uniform in its box (Section 3.2).

    Returns images (n, size, size), identities (n,), poses (n, 3).
    """
    n = check_positive_int("n", n)
    check_rng(rng)
    ids = rng.integers(len(SHAPES), size=n)
    poses = rng.uniform(POSE_LOW, POSE_HIGH, size=(n, 3))
    images = np.stack([render([k], p[None], size) for k, p in zip(ids, poses)])
    return images, ids, poses


def net_init(rng: np.random.Generator, size: int = 24, n_hidden: int = 128):
    r"""Inference network parameters: image to identity logits, pose mean, scale (Section 3.2)."""
    return mlp_init([size * size, n_hidden, n_hidden, len(SHAPES) + 6], rng)


def net_apply(params, images):
    r"""Identity logits and pose distribution of each image (Section 3.2).

    $$
    q(k \mid x) = \operatorname{softmax}(a)_k, \quad
    q(\text{pose} \mid x) = \mathcal N(\mu, \sigma^2), \quad
    \mu = \tfrac{l + h}{2} + \tfrac{h - l}{2}\tanh(\cdot)
    $$

    images (B, S, S) -> logits (B, 3), mu (B, 3), sd (B, 3).
    """
    out = mlp_apply(params, anp.reshape(images, (images.shape[0], -1)))
    c, r = (POSE_LOW + POSE_HIGH) / 2, (POSE_HIGH - POSE_LOW) / 2
    mu = c + r * anp.tanh(out[:, 3:6])
    sd = 0.02 + 0.3 * r * 0.5 * (anp.tanh(0.5 * (out[:, 6:9] - 2.0)) + 1.0)
    return out[:, :3], mu, sd


def _log_lik(image, k, pose, size):
    r = (image - render([k], pose[None], size)) / _SIGMA
    return -0.5 * float(np.sum(r ** 2))


def fd_pose_grad(image, k, pose, size: int = 24, step=_FD_STEP):
    r"""Central finite-difference derivative of $\log p(x \mid k, \text{pose})$ (Section 3.2).

    $$
    \frac{\partial \log p}{\partial \text{pose}_j} \approx
    \frac{\log p(x \mid \text{pose} + h_j e_j) - \log p(x \mid \text{pose} - h_j e_j)}{2 h_j}
    $$

    Six renders for the three pose latents. Returns (log p at pose, gradient (3,)).
    """
    g = np.zeros(3)
    for j in range(3):
        e = np.zeros(3)
        e[j] = step[j]
        g[j] = (_log_lik(image, k, pose + e, size) - _log_lik(image, k, pose - e, size)) / (
            2 * step[j])
    return _log_lik(image, k, pose, size), g


def fit_air3d(seed: int = 0, n_iters: int = 200, batch: int = 16, K: int = 3, size: int = 24,
              lr: float = 1e-3, step=_FD_STEP, explore: float = 0.1, warmup: int = 0,
              callback=None):
    r"""Train the inference network by the ELBO through the renderer (Section 3.2).

    Surrogate per scene (pose $= \mu + \sigma\epsilon$, identities $k_1, \dots, k_K \sim q$
    drawn at that same pose):

    $$
    \hat{\mathcal L} = \operatorname{sg}[\nabla_{\text{pose}} \log p(x \mid k_1,
    \text{pose})]^\top \text{pose} - \mathrm{KL}(q(\text{pose}) \| p(\text{pose}))
    + \frac1K \sum_{j=1}^{K} \operatorname{sg}[\ell_j - b_j] \log q(k_j) + \mathcal H[q(k)]
    $$

    with $\ell_j = \log p(x \mid k_j, \text{pose}) + \log p(k_j)$ in raw nats (the terms
    downstream of $k$) and $b_j$ the mean of the other $K - 1$ samples' $\ell$ (leave-one-out).
    The $K$ identities share one pose sample: the pose does not depend on the identity in the
    guide, so the estimator stays unbiased, and the advantage becomes a pure comparison of
    identities at one pose (0 when two draws agree) instead of being swamped by the difference
    of two pose draws. The pose derivative (six renders) is taken for the first identity drawn;
    every further distinct identity costs one render. The entropy of $q(k)$ is analytic and
    differentiated. As for the presence bits of the 2-D model, the identity distribution is
    mixed with a uniform one, $q = (1 - \epsilon)\operatorname{softmax}(a) + \epsilon/3$ with
    $\epsilon$ = ``explore``, so that no identity stops being tried. The prior on the pose is a
    Gaussian with the pose box's centre and half-width as mean and standard deviation; the
    identity prior is uniform. For the first ``warmup`` steps the identity's likelihood-ratio
    term is left out (only the entropy acts, keeping $q(k)$ near uniform) so that the poses are
    learnt before identities are compared at them. ``callback(params, i)`` is called after
    every step.
    Returns the network parameters.
    """
    K = check_positive_int("K", K)
    if K < 2:
        raise ValueError("the leave-one-out baseline needs K >= 2 identity samples")
    rng = np.random.default_rng(seed)
    params = net_init(rng, size)
    c, r = (POSE_LOW + POSE_HIGH) / 2, (POSE_HIGH - POSE_LOW) / 2

    def objective(p, i):
        x, _, _ = make_scenes3d(batch, rng, size)
        logits, mu, sd = net_apply(p, x)
        soft = anp.exp(logits - logsumexp(logits, axis=1, keepdims=True))  # (B, 3)
        q_all = (1.0 - explore) * soft + explore / 3.0
        logq_all = anp.log(q_all)
        kl = anp.sum(anp.log(r / sd) + (sd ** 2 + (mu - c) ** 2) / (2 * r ** 2) - 0.5, axis=1)
        probs = getval(q_all)
        pose = mu + sd * rng.normal(size=(batch, 3))                       # one pose per scene
        # far-out samples are rendered at the edge of a padded box (keeps objects in view)
        pv = np.clip(getval(pose), POSE_LOW - 0.5, POSE_HIGH + 0.5)
        ks = np.stack([rng.choice(3, size=K, p=pr / pr.sum()) for pr in probs], axis=1)  # (K, B)
        ell = np.zeros((K, batch))
        lg = np.zeros((batch, 3))
        for b in range(batch):
            seen = {}
            ell[0, b], lg[b] = fd_pose_grad(x[b], ks[0, b], pv[b], size, step)
            seen[ks[0, b]] = ell[0, b]
            for j in range(1, K):
                if ks[j, b] not in seen:
                    seen[ks[j, b]] = _log_lik(x[b], ks[j, b], pv[b], size)
                ell[j, b] = seen[ks[j, b]]
        ell = ell - np.log(3.0)
        base = (ell.sum(0, keepdims=True) - ell) / (K - 1)               # (K, B)
        score = sum(anp.sum((ell[j] - base[j]) * logq_all[np.arange(batch), ks[j]])
                    for j in range(K))
        ent = -anp.sum(q_all * logq_all)          # H[q(k)], analytic and differentiated
        w = 0.0 if i < warmup else 1.0            # identity signal off while poses are rough
        return -(anp.sum(lg * pose) - anp.sum(kl) + w * score / K + ent) / batch

    cb = None if callback is None else (lambda p, i, g: callback(p, i))
    return adam(grad(objective), params, num_iters=check_positive_int("n_iters", n_iters),
                step_size=lr, callback=cb)


def fit_supervised3d(images, ids, poses, seed: int = 0, n_iters: int = 1000, batch: int = 32,
                     lr: float = 1e-3):
    r"""The same network trained on true identities and poses (Section 3.2).

    $$
    J = -\log q(k^\star \mid x) + \sum_j \Big(\frac{\mu_j - \text{pose}^\star_j}{r_j}\Big)^2
    $$

    with $r$ the half-widths of the pose box. Returns the network parameters.
    """
    rng = np.random.default_rng(seed)
    size = images.shape[1]
    params = net_init(rng, size)
    r = (POSE_HIGH - POSE_LOW) / 2

    def loss(p, i):
        idx = rng.integers(len(images), size=min(batch, len(images)))
        logits, mu, _ = net_apply(p, images[idx])
        ce = -(logits[np.arange(len(idx)), ids[idx]] - logsumexp(logits, axis=1))
        return anp.mean(ce + anp.sum(((mu - poses[idx]) / r) ** 2, axis=1))

    return adam(grad(loss), params, num_iters=check_positive_int("n_iters", n_iters),
                step_size=lr)


def evaluate3d(params, images, ids, poses) -> dict:
    r"""Identity accuracy, position error and cube yaw error of a network (Section 3.2).

    Returns ``identity_accuracy`` (fraction), ``position_error`` (ground units, mean Euclidean
    distance of $(p_x, p_z)$) and ``yaw_error_deg`` (mean absolute error on cubes, the only shape
    whose yaw is visible).
    """
    logits, mu, _ = net_apply(params, images)
    pos = float(np.mean(np.linalg.norm(mu[:, :2] - poses[:, :2], axis=1)))
    cubes = ids == 1
    yaw = float(np.rad2deg(np.mean(np.abs(mu[cubes, 2] - poses[cubes, 2])))) if cubes.any() \
        else float("nan")
    return {"identity_accuracy": float(np.mean(np.argmax(logits, 1) == ids)),
            "position_error": pos, "yaw_error_deg": yaw}
