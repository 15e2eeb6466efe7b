r"""The ELBO of AIR and its gradient estimator (Sections 2.1-2.2 of Eslami et al. 2016).

One pass runs the guide and the model side by side over the $N$ steps. The per-step terms are
masked after the first absent object. $z^{\text{where}}$ and $z^{\text{what}}$ are
reparameterised; $z^{\text{pres}}$ gets a likelihood-ratio gradient whose learning signal at step
$i$ contains only the terms downstream of $z^{\text{pres}}_i$, minus a baseline.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from ._layers import mlp_apply, mlp_init
from .guide import embed, encode, gaussian_kl, presence_and_where, sample_z_pres
from .model import AIRConfig, decode, log_likelihood, log_p_pres, render

__all__ = ["draw_noise", "air_pass", "elbo", "learning_signals", "baseline_init",
           "neural_baseline", "leave_one_out_baseline", "loss_parts", "surrogate_loss"]


def draw_noise(rng: np.random.Generator, batch: int, config: AIRConfig):
    r"""The guide's noise for one pass (Section 2.1): uniforms for $z^{\text{pres}}$, normals
    for the reparameterised $z^{\text{where}}$ and $z^{\text{what}}$.

    Returns a dict with ``u`` (N, B), ``eps_where`` (N, B, 3), ``eps_what`` (N, B, n_what).
    """
    N = config.max_steps
    return {"u": rng.uniform(size=(N, batch)), "eps_where": rng.normal(size=(N, batch, 3)),
            "eps_what": rng.normal(size=(N, batch, config.n_what))}


def air_pass(params, x, noise, config: AIRConfig, deterministic: bool = False):
    r"""Run guide and model over $N$ steps; per-step terms masked after the first 0 (Eq. 2).

    The guide factorises as in Eq. (2) of the paper,

    $$
    q_\phi(z, n \mid x) = q(z^{\text{pres}}_{n+1} = 0 \mid z_{1:n}, x)
    \prod_{i=1}^{n} q(z_i, z^{\text{pres}}_i = 1 \mid x, z_{1:i-1}),
    $$

    so step $i$ contributes its presence term when $z^{\text{pres}}_{i-1} = 1$ and its pose and
    appearance terms when $z^{\text{pres}}_i = 1$.

    Parameters
    ----------
    params : dict
        Parameters with a ``"model"`` (decoder) and a ``"guide"`` entry.
    x : array, shape (B, H, W)
        The batch of images.
    noise : dict or None
        Noise from [`draw_noise`][reference.air.objective.draw_noise]; ignored (may be None)
        when ``deterministic``.
    config : AIRConfig
        Model and guide sizes and constants; ``config.max_steps`` sets $N$.
    deterministic : bool
        Inference mode: $z^{\text{pres}}_i = [q \ge 1/2]$ (chained), poses and codes at their
        means.

    Returns
    -------
    dict of arrays
        Per step (N, B): ``z_pres``, ``q_pres``, ``mask_prev`` (the previous bit),
        ``log_q_pres``, ``pres_term``, ``kl``; also ``z_where`` (N, B, 3), ``h`` (N, B, n_hidden),
        the summed ``canvas`` (B, H, W) and ``log_lik`` (B,).
    """
    B = x.shape[0]
    N, k = config.max_steps, config.n_what
    g, m = params["guide"], params["model"]
    z_pres = np.ones(B)
    z_where, z_what = anp.zeros((B, 3)), anp.zeros((B, k))
    state = (anp.zeros((B, config.n_hidden)), anp.zeros((B, config.n_hidden)))
    canvas = anp.zeros_like(x) if not isinstance(x, np.ndarray) else np.zeros_like(x)
    e = None if config.dair else embed(g, x)
    out = {key: [] for key in ("z_pres", "q_pres", "mask_prev", "z_where", "log_q_pres",
                               "pres_term", "kl", "h")}
    for i in range(N):
        seen = x - canvas if config.dair else x                 # DAIR: what is left to explain
        e_i = embed(g, seen) if config.dair else e
        q, mu_w, sd_w, state = presence_and_where(g, e_i, (z_where, z_what, z_pres), state,
                                                  config.q_pres_floor)
        mask_prev = z_pres
        if deterministic:
            z_pres = mask_prev * (getval(q) >= 0.5).astype(float)
            z_where = mu_w
        else:
            z_pres = sample_z_pres(q, mask_prev, noise["u"][i])
            z_where = mu_w + sd_w * noise["eps_where"][i]
            # the transformer needs s > 0: a Gaussian draw below 0.05 of the canvas (mean >= 0.15,
            # sd <= 0.05, so a 2-sigma-or-more event) is floored there
            z_where = anp.concatenate([anp.maximum(z_where[:, :1], 0.05), z_where[:, 1:]], axis=1)
        glimpse, mu_k, sd_k = encode(g, seen, z_where, config)
        z_what = mu_k if deterministic else mu_k + sd_k * noise["eps_what"][i]
        canvas = canvas + render(decode(m["decoder"], z_what, config), z_where, z_pres, config)
        # log q(z_pres_i) of the sampled bit, stable in the logit
        log_q = anp.log(anp.where(z_pres > 0, q, 1.0 - q) + 1e-12)
        out["z_pres"].append(z_pres)
        out["q_pres"].append(q)
        out["mask_prev"].append(mask_prev)
        out["z_where"].append(z_where)
        out["log_q_pres"].append(mask_prev * log_q)
        out["pres_term"].append(mask_prev * (log_p_pres(z_pres, config) - log_q))
        out["kl"].append(z_pres * (gaussian_kl(mu_w, sd_w, config.where_mu, config.where_sd)
                                   + gaussian_kl(mu_k, sd_k, 0.0, 1.0)))
        out["h"].append(state[0])
    res = {key: anp.stack(val) for key, val in out.items()}
    res["canvas"] = canvas
    res["log_lik"] = log_likelihood(x, canvas, config)
    return res


def elbo(res):
    r"""Single-sample ELBO per image from an [`air_pass`][reference.air.objective.air_pass].

    $$
    \mathcal L(x) = \log p_\theta(x \mid z)
    + \sum_{i} \Big( \log \tfrac{p(z^{\text{pres}}_i)}{q(z^{\text{pres}}_i)}
    - \mathrm{KL}^{\text{where}}_i - \mathrm{KL}^{\text{what}}_i \Big)
    $$

    (Section 2.2; the Gaussian terms are analytic KLs given the upstream samples.)
    Returns (B,), nats.
    """
    return res["log_lik"] + anp.sum(res["pres_term"] - res["kl"], axis=0)


def learning_signals(res):
    r"""Per-step learning signals for $z^{\text{pres}}_i$: only the downstream terms (Section 2.2).

    $$
    \ell_i = \log p_\theta(x \mid z) + \sum_{j \ge i} \Big( \log
    \tfrac{p(z^{\text{pres}}_j)}{q(z^{\text{pres}}_j)} - \mathrm{KL}_j \Big)
    $$

    Raw nats, detached (no gradient flows through them). Returns (N, B).
    """
    step = getval(res["pres_term"]) - getval(res["kl"])          # (N, B)
    downstream = np.cumsum(step[::-1], axis=0)[::-1]
    return getval(res["log_lik"])[None, :] + downstream


def baseline_init(config: AIRConfig, rng: np.random.Generator, n_hidden: int = 64):
    r"""Parameters of the NVIL-style neural baseline (Section 2.2; Mnih & Gregor 2014).

    A separate MLP from (image, detached guide state, step one-hot) to one number per step.
    """
    n_in = config.canvas ** 2 + config.n_hidden + config.max_steps
    return mlp_init([n_in, n_hidden, 1], rng)


#: The baseline network's output unit in nats (the learning signal itself stays in raw nats;
#: this only lets Adam's bounded steps reach signals of hundreds of nats quickly).
BASELINE_UNIT = 100.0


def neural_baseline(params_b, x, res):
    r"""Input-dependent baseline $b_\psi(x, h_i, i)$ for every step (Section 2.2).

    $$
    b_i = 100 \cdot f_\psi\big(\operatorname{sg}[x], \operatorname{sg}[h_i], e_i\big)
    $$

    Every input is detached ($\operatorname{sg}$), so the baseline's training cannot move the
    guide. Returns (N, B), nats.
    """
    xv = np.asarray(getval(x))
    B = xv.shape[0]
    h = np.asarray(getval(res["h"]))                            # (N, B, n_hidden)
    N = h.shape[0]
    flat = np.broadcast_to(xv.reshape(1, B, -1), (N, B, xv[0].size))
    steps = np.broadcast_to(np.eye(N)[:, None, :], (N, B, N))
    inp = np.concatenate([flat, h, steps], axis=2).reshape(N * B, -1)
    return BASELINE_UNIT * anp.reshape(mlp_apply(params_b, inp), (N, B))


def leave_one_out_baseline(signals, K: int):
    r"""Leave-one-out multi-sample baseline: the mean signal of the other $K-1$ samples.

    Not in the paper: a comparison for its Section 2.2 baselines (in the spirit of Mnih & Rezende
    2016), used by the variance experiment.

    $$
    b^{(k)}_i = \frac{1}{K-1} \sum_{k' \ne k} \ell^{(k')}_i
    $$

    ``signals`` (N, K*B) with the K samples of an image at positions ``k*B + b``.
    Returns (N, K*B).
    """
    if K < 2:
        raise ValueError(f"the leave-one-out baseline needs K >= 2 samples per image, got {K}")
    N, KB = signals.shape
    s = signals.reshape(N, K, KB // K)
    return ((s.sum(axis=1, keepdims=True) - s) / (K - 1)).reshape(N, KB)


def loss_parts(params, x, noise, config: AIRConfig, baseline: str = "neural", K: int = 1):
    r"""The two parts of the training loss: model and guide, and baseline (Section 2.2).

    $$
    J_{\theta,\phi} = -\overline{\mathcal L(x) + \sum_i z^{\text{pres}}_{i-1}\,
    \operatorname{sg}[\ell_i - b_i] \log q(z^{\text{pres}}_i)}, \qquad
    J_\psi = \overline{\sum_i z^{\text{pres}}_{i-1} (\operatorname{sg}[\ell_i] - b_i)^2}
    $$

    The first part trains model and guide (reparameterised paths for $z^{\text{where}}$,
    $z^{\text{what}}$; likelihood ratio for $z^{\text{pres}}$) and has no gradient with respect
    to the baseline; the second trains only the baseline, whose inputs are detached.
    ``baseline`` is ``"neural"``, ``"loo"`` (needs ``x`` to hold ``K`` copies of each image,
    sample-major) or ``"none"``; for the last two $J_\psi = 0$.

    Returns
    -------
    J_model_guide : scalar
        $J_{\theta,\phi}$, the surrogate loss of model and guide.
    J_baseline : scalar
        $J_\psi$, the baseline's squared-error loss (0.0 unless ``baseline`` is ``"neural"``).
    info : dict
        ``"elbo"``, the batch-mean ELBO (float), and ``"res"``, the
        [`air_pass`][reference.air.objective.air_pass] results.
    """
    res = air_pass(params, x, noise, config)
    L = elbo(res)
    ell = learning_signals(res)
    if baseline == "neural":
        b = neural_baseline(params["baseline"], x, res)
    elif baseline == "loo":
        b = leave_one_out_baseline(ell, K)
    elif baseline == "none":
        b = np.zeros_like(ell)
    else:
        raise ValueError(f"baseline must be 'neural', 'loo' or 'none', got {baseline!r}")
    adv = ell - getval(b)                                        # raw nats, detached
    J_mg = -anp.mean(L + anp.sum(adv * res["log_q_pres"], axis=0))
    J_b = 0.0
    if baseline == "neural":
        mask = getval(res["mask_prev"])
        J_b = anp.mean(anp.sum(mask * (ell - b) ** 2, axis=0))
    return J_mg, J_b, {"elbo": float(np.mean(getval(L))), "res": res}


def surrogate_loss(params, x, noise, config: AIRConfig, baseline: str = "neural", K: int = 1):
    r"""Loss whose autograd gradient is the AIR gradient estimate (Section 2.2).

    $$
    J = J_{\theta,\phi} + J_\psi
    $$

    from [`loss_parts`][reference.air.objective.loss_parts]; since the parts touch disjoint
    parameters, one gradient of $J$ trains model, guide and baseline at once (with separate
    step sizes in [`fit`][reference.air.training.fit]).

    Returns
    -------
    loss : scalar
        $J$, the sum of the two parts; differentiate it with autograd.
    info : dict
        ``"elbo"``, the batch-mean ELBO (float), and ``"res"``, the
        [`air_pass`][reference.air.objective.air_pass] results.
    """
    J_mg, J_b, info = loss_parts(params, x, noise, config, baseline, K)
    return J_mg + J_b, info
