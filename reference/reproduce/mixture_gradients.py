r"""Reproduce the measurements of the Graves (2016) page, arXiv:1607.05690.

``python -m reference.reproduce mixture_gradients [--quick] [--seed N]`` runs four arms and
returns their metrics:

- ``fd_max_rel_error``: the largest relative disagreement between the autograd gradient of
  ``reference.mixture_gradients.mixture_quantile`` and central finite differences of the
  quantile transform (re-solved at fixed $\mathbf u$), over 100 random mixtures;
- ``nan_count_tails``: non-finite values in the log-density and the gradient at samples up to 40
  standard deviations from every component, for scales from $10^{-3}$ to $10^{3}$;
- the cost (best-of-n CPU seconds, ``best_time``) of sample + gradient against the forward
  sample and against the mixture log-density at the same samples, in both its forms (matrix
  products, as shipped, and direct), and against TensorFlow Probability on JAX when it is
  installed (``pip install -e ".[bench]"``);
- ``vi_elbo_*``: the ELBO reached by ``reference.mixture_gradients.fit_vi`` on the four-mode
  2-D target with a mixture posterior (implicit gradient), a single Gaussian, and a mixture whose
  weights get a score-function gradient.

The experiment code lives in the paper package (``reference.mixture_gradients``) and in
``reference.testing`` (``best_time``); ``time_ours`` and ``time_tfp`` are shared with
``benchmarks/``.
"""

from __future__ import annotations


import autograd.numpy as anp
import numpy as np
from autograd import grad

from .. import mixture_gradients as mg
from ..testing import best_time, central_difference, random_mixture

__all__ = ["fd_relative_error", "tail_nonfinite_count", "time_ours", "time_tfp", "TABLE", "run"]


# --------------------------------------------------------------------------------------------
# Arm 1: finite differences on random mixtures
# --------------------------------------------------------------------------------------------
def fd_relative_error(rng: np.random.Generator, params, n: int = 3, eps: float = 1e-6) -> float:
    r"""Max relative error of the autograd gradient against central finite differences.

    The loss is $\sum_{nd} c_{nd} \hat x_{nd}$ with random $c$ at fixed uniform noise; each
    parameter entry is moved by $\pm\varepsilon$ times its own scale (the entry itself for
    ``sigma``, 1 otherwise) and the quantile transform is solved again. The error is
    $\max |g - g_{FD}| / \max |g_{FD}|$ over all entries of all three parameters.
    """
    logits, mu, sigma = params
    D = mu.shape[1]
    u = rng.uniform(0.02, 0.98, size=(n, D))
    c = rng.normal(size=(n, D))

    def loss(*p):
        return anp.sum(c * mg.mixture_quantile(u, *p))

    exact = [grad(loss, i)(*params) for i in range(3)]
    num, den = 0.0, 0.0
    for i in range(3):
        fd = central_difference(loss, params, i, step=eps * (params[i] if i == 2 else 1.0))
        num = max(num, float(np.max(np.abs(exact[i] - fd))))
        den = max(den, float(np.max(np.abs(fd))))
    return num / den


# --------------------------------------------------------------------------------------------
# Arm 2: the tails
# --------------------------------------------------------------------------------------------
def tail_nonfinite_count(max_sd: float = 40.0) -> dict:
    r"""Non-finite values of log-density and gradient far in the tails, for extreme scales.

    For scales $10^{-3}, 1, 10^{3}$ and a three-component 2-D mixture, samples are placed at
    $\mu_k \pm t\,\sigma_k$ for $t$ up to ``max_sd`` around every component (and between
    components); returns the number of points and of non-finite values of
    ``mixture_log_pdf`` and of the VJP.
    """
    points, bad = 0, 0
    t = np.concatenate([-np.logspace(-1, np.log10(max_sd), 15), [0.0],
                        np.logspace(-1, np.log10(max_sd), 15)])
    for scale in (1e-3, 1.0, 1e3):
        logits = np.array([0.5, -1.0, 0.2])
        mu = np.array([[-3.0, 0.0], [0.0, 2.0], [4.0, -1.0]]) * scale
        sigma = np.array([[1.0, 0.5], [0.3, 1.0], [2.0, 1.5]]) * scale
        x = np.concatenate([mu[k] + np.outer(t, sigma[k] * sign)
                            for k in range(3) for sign in ([1, 1], [1, -1], [1, 0], [0, 1])])
        g = np.ones_like(x)
        out = [mg.mixture_log_pdf(x, logits, mu, sigma),
               *mg.mixture_vjp(g, x, logits, mu, sigma)]
        points += x.shape[0]
        bad += int(sum(np.sum(~np.isfinite(o)) for o in out))
    return {"points": points, "nonfinite": bad}


# --------------------------------------------------------------------------------------------
# Arm 3: cost
# --------------------------------------------------------------------------------------------
def time_ours(D: int, K: int, N: int = 10_000, repeats: int = 5, seed: int = 0) -> dict:
    """Best-of-``repeats`` CPU seconds of: the forward sample; sample + gradient; the
    log-density as shipped (matrix products, ``log_pdf``) and in the direct form
    (``log_pdf_direct``).

    The gradient is the VJP of a random linear function of the samples with respect to
    ``logits``, ``mu`` and ``sigma``, through ``mixture_sample``.
    """
    from autograd.scipy.special import logsumexp

    from ..mixture_gradients.density import _log_comp_direct
    from ..nn import log_softmax
    rng = np.random.default_rng(seed)
    logits, mu, sigma = random_mixture(rng, D, K, (-0.5, 0.5))
    c = rng.normal(size=(N, D))
    x = mg.mixture_sample(rng, logits, mu, sigma, N)

    def loss(lg, m, s):
        return anp.sum(c * mg.mixture_sample(rng, lg, m, s, N))

    def direct():
        return logsumexp(log_softmax(logits)[None] + _log_comp_direct(x, mu, sigma), axis=1)

    g = grad(loss, (0, 1, 2))
    return {"sample": best_time(lambda: mg.mixture_sample(rng, logits, mu, sigma, N), repeats),
            "sample_and_grad": best_time(lambda: g(logits, mu, sigma), repeats),
            "log_pdf": best_time(lambda: mg.mixture_log_pdf(x, logits, mu, sigma), repeats),
            "log_pdf_direct": best_time(direct, repeats)}


def time_tfp(D: int, K: int, N: int = 10_000, repeats: int = 5, seed: int = 0):
    """Best-of-``repeats`` CPU seconds of sample + gradient with TensorFlow Probability on JAX
    (jitted, float64; compilation excluded).

    The peer is ``MixtureSameFamily(Categorical, Independent(Normal), reparameterize=True)``,
    whose gradient for the weights is also an implicit one (its distributional transform).
    Returns ``None`` when ``tensorflow_probability`` or ``jax`` is not installed.
    """
    try:
        import jax
        import jax.numpy as jnp
        from tensorflow_probability.substrates import jax as tfp
    except Exception:  # not installed, or an incompatible version
        return None
    jax.config.update("jax_enable_x64", True)
    tfd = tfp.distributions
    rng = np.random.default_rng(seed)
    logits, mu, sigma = (jnp.asarray(a) for a in random_mixture(rng, D, K, (-0.5, 0.5)))
    c = jnp.asarray(rng.normal(size=(N, D)))

    def loss(params, key):
        lg, m, s = params
        components = tfd.Independent(tfd.Normal(loc=m, scale=s), reinterpreted_batch_ndims=1)
        q = tfd.MixtureSameFamily(tfd.Categorical(logits=lg), components, reparameterize=True)
        return jnp.sum(c * q.sample(N, seed=key))

    g = jax.jit(jax.grad(loss))
    key = jax.random.PRNGKey(seed)
    jax.block_until_ready(g((logits, mu, sigma), key))                     # compile
    return best_time(lambda: jax.block_until_ready(g((logits, mu, sigma), key)), repeats)


# --------------------------------------------------------------------------------------------
# The reproduce entry
# --------------------------------------------------------------------------------------------
#: Wall time of ``--quick`` measured on the shared 2-core machine (load average about 10).
QUICK_WALL_TIME_S = 309

TABLE = [
    ("fd_max_rel_error", "Max relative error, autograd vs central finite differences, "
     "{n_mixtures} random mixtures (D <= 6, K <= 5, scales 0.1-10)", "— (the paper has no check)"),
    ("nan_count_tails", "Non-finite log-densities or gradients at samples up to 40 sd from "
     "every component, scales 1e-3..1e3", "—"),
    ("grad_over_log_pdf_d16_k10", "CPU time of sample + gradient / CPU time of the "
     "log-density (two matrix products), N = 10,000, D = 16, K = 10", "—"),
    ("grad_over_log_pdf_direct_d16_k10", "The same against the direct-form log-density",
     "—"),
    ("grad_over_sample_d16_k10", "CPU time of sample + gradient / of the forward sample, "
     "N = 10,000, D = 16, K = 10", "—"),
    ("speedup_vs_tfp_d16_k10", "TFP-on-JAX CPU time / ours for sample + gradient, D = 16, "
     "K = 10", "—", "TFP not installed"),
    ("speedup_vs_tfp_d2_k3", "The same at D = 2, K = 3", "—", "TFP not installed"),
    ("vi_elbo_mixture", "ELBO on the four-mode target, q = 4-component mixture, implicit "
     "gradient, median of {vi_seeds} seeds, {vi_steps} updates (optimum 0)", "—"),
    ("vi_elbo_score", "The same with score-function gradients for the weights", "—"),
    ("vi_elbo_gaussian", "The same with q = one Gaussian (on one mode: -log 4 = -1.386)",
     "—"),
]


def run(quick: bool = False, seed: int = 0) -> dict:
    """Run all measurements (``quick``: 20 mixtures, fewer repeats and updates)."""
    rng = np.random.default_rng(seed)
    out = {}
    n_mix = 20 if quick else 100
    errs = []
    for _ in range(n_mix):
        D, K = int(rng.integers(1, 7)), int(rng.integers(1, 6))
        errs.append(fd_relative_error(rng, random_mixture(rng, D, K)))
    out["n_mixtures"] = n_mix
    out["fd_max_rel_error"] = max(errs)
    out["fd_median_rel_error"] = float(np.median(errs))
    print(f"finite differences over {n_mix} mixtures: max {max(errs):.2e}")
    tails = tail_nonfinite_count()
    out["nan_count_tails"] = tails["nonfinite"]
    out["tail_points"] = tails["points"]
    repeats = 2 if quick else 5
    for D, K in [(2, 3), (16, 10), (64, 10)]:
        t = time_ours(D, K, repeats=repeats, seed=seed)
        tag = f"d{D}_k{K}"
        out[f"time_sample_and_grad_{tag}"] = t["sample_and_grad"]
        out[f"grad_over_log_pdf_{tag}"] = t["sample_and_grad"] / t["log_pdf"]
        out[f"grad_over_log_pdf_direct_{tag}"] = t["sample_and_grad"] / t["log_pdf_direct"]
        out[f"log_pdf_direct_over_products_{tag}"] = t["log_pdf_direct"] / t["log_pdf"]
        out[f"grad_over_sample_{tag}"] = t["sample_and_grad"] / t["sample"]
        peer = time_tfp(D, K, repeats=repeats, seed=seed)
        out[f"time_tfp_{tag}"] = peer
        out[f"speedup_vs_tfp_{tag}"] = None if peer is None else peer / t["sample_and_grad"]
        tfp = "not installed" if peer is None else \
            f"{peer * 1e3:.1f} ms (x{out[f'speedup_vs_tfp_{tag}']:.2f} of ours)"
        print(f"D={D:2d} K={K:2d}: sample+grad {t['sample_and_grad'] * 1e3:.1f} ms CPU, "
              f"x{out[f'grad_over_log_pdf_{tag}']:.2f} of log_pdf (products), "
              f"x{out[f'grad_over_log_pdf_direct_{tag}']:.2f} of log_pdf (direct); TFP {tfp}")
    steps = 300 if quick else 1500
    seeds = range(seed, seed + (2 if quick else 5))
    out["vi_seeds"] = len(seeds)
    out["vi_steps"] = steps
    for name, K, weights in [("mixture", 4, "implicit"), ("score", 4, "score"),
                             ("gaussian", 1, "implicit")]:
        values = [mg.elbo(mg.fit_vi(np.random.default_rng(s), K, weights, steps=steps)[0],
                          np.random.default_rng(s + 1000)) for s in seeds]
        out[f"vi_elbo_{name}"] = float(np.median(values))
        out[f"vi_elbo_{name}_seeds"] = values
        print(f"VI {name}: ELBO median {np.median(values):.3f}, seeds {np.round(values, 3)}")
    return out
