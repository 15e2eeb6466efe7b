r"""AIR with a renderer as the decoder: one object per 3-D scene (Section 3.2 of Eslami et al.).

The decoder is the fixed, non-differentiable [`render`][reference.air.renderer.render]. An
inference network maps the image to a categorical identity and, for each identity, a Gaussian
pose $(p_x, p_z, \theta)$. The pose is reparameterised, and the derivative of the log likelihood
with respect to the sampled pose comes from central finite differences through the renderer (two
renders per latent per sample); the identity gets a likelihood-ratio gradient with a
leave-one-out baseline over $K$ samples per scene (or, to separate the estimator from the
objective, the exact sum over the three identities). The same network trained by regression on
the true poses and identities is the supervised comparison.
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
    r"""Inference network parameters: identity logits and a pose per identity (Section 3.2).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the initial weights.
    size : int
        Image side in pixels; the input layer has ``size * size`` units.
    n_hidden : int
        Units in each of the two hidden layers.

    Returns
    -------
    list of dict
        Weights ``W`` and biases ``b`` of an MLP with ``3 + 3 * 6`` outputs: three identity
        logits and, for each identity, a pose mean and a pose scale (three latents each).
    """
    return mlp_init([size * size, n_hidden, n_hidden, len(SHAPES) * 7], rng)


def net_apply(params, images):
    r"""Identity logits and, for each identity, a pose distribution (Section 3.2).

    $$
    q(k \mid x) = \operatorname{softmax}(a)_k, \quad
    q(\text{pose} \mid x, k) = \mathcal N(\mu_k, \sigma_k^2), \quad
    \mu_k = \tfrac{l + h}{2} + \tfrac{h - l}{2}\tanh(\cdot)
    $$

    Parameters
    ----------
    params : list of dict
        Network parameters from [`net_init`][reference.air.scene3d.net_init].
    images : ndarray, shape (B, S, S)
        Rendered scenes.

    Returns
    -------
    logits : ndarray, shape (B, 3)
        Unnormalised log probabilities of the three shapes.
    mu : ndarray, shape (B, 3, 3)
        Pose mean $(p_x, p_z, \theta)$ for each identity (axis 1) inside the pose box.
    sd : ndarray, shape (B, 3, 3)
        Pose standard deviation for each identity, between 0.02 and 0.3 of the box's half-width.

    Notes
    -----
    The guide's pose depends on the identity. With one pose for all identities (our first
    version) the pose was fitted to whichever shape was sampled most, which raised that
    shape's likelihood further, and the identity distribution collapsed onto it. Whether the
    paper's network conditions the pose on the identity is not stated.
    """
    B = images.shape[0]
    n = len(SHAPES)
    out = mlp_apply(params, anp.reshape(images, (B, -1)))       # (B, 7 n)
    c, r = (POSE_LOW + POSE_HIGH) / 2, (POSE_HIGH - POSE_LOW) / 2
    mu = c + r * anp.tanh(anp.reshape(out[:, n:4 * n], (B, n, 3)))          # (B, n, 3)
    raw = anp.reshape(out[:, 4 * n:], (B, n, 3))
    sd = 0.02 + 0.3 * r * 0.5 * (anp.tanh(0.5 * (raw - 2.0)) + 1.0)       # (B, n, 3)
    return out[:, :n], mu, sd


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
              identity_gradient: str = "score", callback=None):
    r"""Train the inference network by the ELBO through the renderer (Section 3.2).

    Surrogate per scene, with identities $k_1, \dots, k_K \sim q(k \mid x)$ and one noise draw
    $\epsilon$ shared by them, $\text{pose}_j = \mu_{k_j} + \sigma_{k_j} \epsilon$:

    $$
    \hat{\mathcal L} = \frac1K \sum_{j=1}^{K} \Big(
    \operatorname{sg}[\nabla_{\text{pose}} \log p(x \mid k_j, \text{pose}_j)]^\top
    \text{pose}_j + \operatorname{sg}[\ell_j - b_j] \log q(k_j) \Big)
    - \sum_k q(k) \, \mathrm{KL}(q(\text{pose} \mid k) \| p(\text{pose})) + \mathcal H[q(k)]
    $$

    Parameters
    ----------
    seed : int
        Seed of the weights and of the training scenes, drawn fresh at every step.
    n_iters : int
        Adam steps.
    batch : int
        Scenes per step.
    K : int
        Identity samples per scene (at least 2, for the leave-one-out baseline).
    size : int
        Image side in pixels.
    lr : float
        Adam step size.
    step : ndarray, shape (3,)
        Finite-difference steps of $(p_x, p_z, \theta)$.
    explore : float
        Weight $\epsilon$ of the uniform distribution mixed into $q(k \mid x)$.
    warmup : int
        Steps at the start without the identity's learning signal.
    identity_gradient : {"score", "exact"}
        ``"score"``: the likelihood-ratio estimator above (the paper's). ``"exact"``: the sum
        over all three identities, $\sum_k q(k)\,\ell_k$ (and $\operatorname{sg}[q(k)]$
        weighting each identity's pose term), differentiated exactly: no estimator noise, at
        the cost of rendering every identity. It tells whether a failure comes from the
        estimator or from the objective.
    callback : callable or None
        ``callback(params, i)``, called after every step.

    Returns
    -------
    list of dict
        The trained network parameters (as from [`net_init`][reference.air.scene3d.net_init]).

    Notes
    -----
    $\ell_j = \log p(x \mid k_j, \text{pose}_j) + \log p(k_j)$ in raw nats (the terms
    downstream of $k$) and $b_j$ is the mean of the other $K - 1$ samples' $\ell$
    (leave-one-out). The pose derivative comes from six renders (central differences) per
    distinct identity drawn; a repeated identity reuses them, since the shared $\epsilon$ gives
    it the same pose. Sharing $\epsilon$ keeps the estimator unbiased (each $k_j$ is drawn
    independently of $\epsilon$ and of the others) and makes the advantage a comparison of
    identities, each at its own best-guess pose, rather than of two pose draws. The KL of the
    pose and the entropy of $q(k)$ are analytic and differentiated. As for the presence bits of
    the 2-D model, $q = (1 - \epsilon)\operatorname{softmax}(a) + \epsilon/3$ so that no
    identity stops being tried. The prior on the pose is a Gaussian with the pose box's centre
    and half-width as mean and standard deviation; the identity prior is uniform. For the first
    ``warmup`` steps only the entropy acts on $q(k)$, keeping it near uniform while the poses
    are learnt.
    """
    K = check_positive_int("K", K)
    if K < 2:
        raise ValueError("the leave-one-out baseline needs K >= 2 identity samples")
    if identity_gradient not in ("score", "exact"):
        raise ValueError(f"identity_gradient must be 'score' or 'exact', not {identity_gradient!r}")
    exact = identity_gradient == "exact"
    rng = np.random.default_rng(seed)
    params = net_init(rng, size)
    c, r = (POSE_LOW + POSE_HIGH) / 2, (POSE_HIGH - POSE_LOW) / 2
    n = len(SHAPES)

    def objective(p, i):
        x, _, _ = make_scenes3d(batch, rng, size)
        logits, mu, sd = net_apply(p, x)                 # (B, n), (B, n, 3), (B, n, 3)
        soft = anp.exp(logits - logsumexp(logits, axis=1, keepdims=True))  # (B, n)
        q_all = (1.0 - explore) * soft + explore / n
        logq_all = anp.log(q_all)
        # E_q(k) KL(N(mu_k, sd_k^2) || N(c, r^2)), summed over the three pose latents
        kl_k = anp.sum(anp.log(r / sd) + (sd ** 2 + (mu - c) ** 2) / (2 * r ** 2) - 0.5, axis=2)
        kl = anp.sum(q_all * kl_k, axis=1)                                  # (B,)
        eps = rng.normal(size=(batch, 1, 3))             # one draw per scene, shared by its k's
        pose = mu + sd * eps                                               # (B, n, 3)
        # far-out samples are rendered at the edge of a padded box (keeps objects in view)
        pv = np.clip(getval(pose), POSE_LOW - 0.5, POSE_HIGH + 0.5)
        probs = getval(q_all)
        ks = np.stack([rng.choice(n, size=K, p=pr / pr.sum()) for pr in probs], axis=1)  # (K, B)
        ell = np.zeros((K, batch))
        ell_all = np.zeros((batch, n))   # log p(x | k, pose_k) of the identities rendered
        lg = np.zeros((batch, n, 3))     # pose derivative, weighted by q(k) or by draws of k
        for b in range(batch):
            seen = {}
            for k in (range(n) if exact else ks[:, b]):
                if k not in seen:
                    seen[k] = fd_pose_grad(x[b], k, pv[b, k], size, step)
                    ell_all[b, k] = seen[k][0]
                    if exact:
                        lg[b, k] = probs[b, k] * seen[k][1]
                if not exact:
                    lg[b, k] += seen[k][1] / K
            ell[:, b] = ell_all[b, ks[:, b]]
        if exact:
            score = anp.sum(q_all * ell_all)                  # sum_k q(k) log p(x | k, pose_k)
        else:
            ell = ell - np.log(n)                             # + log p(k), uniform
            base = (ell.sum(0, keepdims=True) - ell) / (K - 1)                 # (K, B)
            score = sum(anp.sum((ell[j] - base[j]) * logq_all[np.arange(batch), ks[j]])
                        for j in range(K)) / K
        ent = -anp.sum(q_all * logq_all)          # H[q(k)], analytic and differentiated
        w = 0.0 if i < warmup else 1.0            # identity signal off while poses are rough
        return -(anp.sum(lg * pose) - anp.sum(kl) + w * score + ent) / batch

    cb = None if callback is None else (lambda p, i, g: callback(p, i))
    return adam(grad(objective), params, num_iters=check_positive_int("n_iters", n_iters),
                step_size=lr, callback=cb)


def fit_supervised3d(images, ids, poses, seed: int = 0, n_iters: int = 1000, batch: int = 32,
                     lr: float = 1e-3):
    r"""The same network trained on true identities and poses (Section 3.2).

    $$
    J = -\log q(k^\star \mid x) + \sum_j \Big(\frac{\mu_{k^\star j} -
    \text{pose}^\star_j}{r_j}\Big)^2
    $$

    with $r$ the half-widths of the pose box: the pose head of the true identity $k^\star$
    regresses the true pose. Returns the network parameters.
    """
    rng = np.random.default_rng(seed)
    size = images.shape[1]
    params = net_init(rng, size)
    r = (POSE_HIGH - POSE_LOW) / 2

    def loss(p, i):
        idx = rng.integers(len(images), size=min(batch, len(images)))
        logits, mu, _ = net_apply(p, images[idx])
        rows = np.arange(len(idx))
        ce = -(logits[rows, ids[idx]] - logsumexp(logits, axis=1))
        # the pose head of the true identity regresses the true pose
        return anp.mean(ce + anp.sum(((mu[rows, ids[idx]] - poses[idx]) / r) ** 2, axis=1))

    return adam(grad(loss), params, num_iters=check_positive_int("n_iters", n_iters),
                step_size=lr)


def evaluate3d(params, images, ids, poses) -> dict:
    r"""Identity accuracy, position error and cube yaw error of a network (Section 3.2).

    Returns ``identity_accuracy`` (fraction), ``position_error`` (ground units, mean Euclidean
    distance of $(p_x, p_z)$) and ``yaw_error_deg`` (mean absolute error on cubes, the only shape
    whose yaw is visible).
    """
    logits, mu_all, _ = net_apply(params, images)
    k_hat = np.argmax(logits, 1)
    mu = mu_all[np.arange(len(images)), k_hat]        # the pose of the inferred identity
    pos = float(np.mean(np.linalg.norm(mu[:, :2] - poses[:, :2], axis=1)))
    cubes = ids == 1
    yaw = float(np.rad2deg(np.mean(np.abs(mu[cubes, 2] - poses[cubes, 2])))) if cubes.any() \
        else float("nan")
    return {"identity_accuracy": float(np.mean(k_hat == ids)),
            "position_error": pos, "yaw_error_deg": yaw}
