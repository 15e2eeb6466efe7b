r"""Reproduce the measurements of the Graves (2016) page, arXiv:1607.05690.

``python -m reference.reproduce mixture_gradients [--quick] [--seed N]`` measures

- ``fd_max_rel_error``: the largest relative disagreement between the autograd gradient of
  :func:`reference.mixture_gradients.mixture_quantile` and central finite differences of the
  quantile transform (re-solved at fixed $\mathbf u$), over 100 random mixtures;
- ``nan_count_tails``: non-finite values in the log-density and the gradient at samples up to 40
  standard deviations from every component, for scales from $10^{-3}$ to $10^{3}$;
- the cost of sample + gradient against the forward sample and against the mixture
  log-density at the same samples, and against TensorFlow Probability on JAX when it is
  installed (``pip install -e ".[bench]"``);
- ``vi_elbo_*``: the ELBO reached by variational inference on a four-mode 2-D target with a
  mixture posterior (implicit gradient), a single Gaussian, and a mixture whose weights get a
  score-function gradient.

The helpers (:func:`random_mixture`, :func:`fd_relative_error`, :func:`time_ours`,
:func:`time_tfp`, :func:`fit_vi`, :func:`elbo`) are shared with ``benchmarks/`` and the gallery,
so each experiment is written once.
"""

from __future__ import annotations

import time

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp
from autograd.tracer import getval

from .. import mixture_gradients as mg

__all__ = ["random_mixture", "fd_relative_error", "tail_nonfinite_count", "best_time", "time_ours",
           "time_tfp", "TARGET", "target_log_pdf", "elbo", "fit_vi", "run", "TABLE"]


# --------------------------------------------------------------------------------------------
# Finite differences on random mixtures
# --------------------------------------------------------------------------------------------
def random_mixture(rng: np.random.Generator, D: int, K: int, log10_scale=(-1.0, 1.0)):
    """Random ``(logits (K,), mu (K, D), sigma (K, D))`` with scales log-uniform in a range."""
    logits = rng.normal(size=K)
    sigma = 10.0 ** rng.uniform(*log10_scale, size=(K, D))
    mu = rng.normal(size=(K, D)) * 2.0 * np.median(sigma)
    return logits, mu, sigma


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
        fd = np.zeros_like(params[i])
        for idx in np.ndindex(fd.shape):
            h = eps * (params[i][idx] if i == 2 else 1.0)
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[i][idx] += h
            minus[i][idx] -= h
            fd[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        num = max(num, float(np.max(np.abs(exact[i] - fd))))
        den = max(den, float(np.max(np.abs(fd))))
    return num / den


def tail_nonfinite_count(max_sd: float = 40.0) -> dict:
    r"""Non-finite values of log-density and gradient far in the tails, for extreme scales.

    For scales $10^{-3}, 1, 10^{3}$ and a three-component 2-D mixture, samples are placed at
    $\mu_k \pm t\,\sigma_k$ for $t$ up to ``max_sd`` around every component (and between
    components); returns the number of points and of non-finite values of
    :func:`~reference.mixture_gradients.mixture_log_pdf` and of the VJP.
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
# Cost
# --------------------------------------------------------------------------------------------
def best_time(fn, repeats: int) -> float:
    """Smallest wall time in seconds of ``repeats`` calls of ``fn()`` (robust to a busy machine)."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def time_ours(D: int, K: int, N: int = 10_000, repeats: int = 5, seed: int = 0) -> dict:
    """Best-of-``repeats`` seconds of: the forward sample; sample + gradient; the log-density.

    The gradient is the VJP of a random linear function of the samples with respect to
    ``logits``, ``mu`` and ``sigma``, through :func:`~reference.mixture_gradients.mixture_sample`.
    """
    rng = np.random.default_rng(seed)
    logits, mu, sigma = random_mixture(rng, D, K, (-0.5, 0.5))
    c = rng.normal(size=(N, D))
    x = mg.mixture_sample(rng, logits, mu, sigma, N)

    def loss(lg, m, s):
        return anp.sum(c * mg.mixture_sample(rng, lg, m, s, N))

    g = grad(loss, (0, 1, 2))
    return {"sample": best_time(lambda: mg.mixture_sample(rng, logits, mu, sigma, N), repeats),
            "sample_and_grad": best_time(lambda: g(logits, mu, sigma), repeats),
            "log_pdf": best_time(lambda: mg.mixture_log_pdf(x, logits, mu, sigma), repeats)}


def time_tfp(D: int, K: int, N: int = 10_000, repeats: int = 5, seed: int = 0):
    """Seconds of sample + gradient with TensorFlow Probability on JAX (jitted, float64).

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
# Variational inference with a mixture posterior
# --------------------------------------------------------------------------------------------
#: The target: an equal mixture of four isotropic Gaussians at the corners of a square.
TARGET = {"logits": np.zeros(4),
          "mu": np.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]]),
          "sigma": np.full((4, 2), 0.6)}


def target_log_pdf(x):
    r"""Normalised log-density of :data:`TARGET`: the ELBO is $-\mathrm{KL}(q \| p) \le 0$."""
    return mg.mixture_log_pdf(x, TARGET["logits"], TARGET["mu"], TARGET["sigma"])


def _unpack(params):
    return params["logits"], params["mu"], anp.exp(params["log_sigma"])


def elbo(params, rng: np.random.Generator, n: int = 20_000) -> float:
    r"""Monte Carlo ELBO $\mathbb E_q[\log p(x) - \log q(x)]$ of a mixture $q$ (no gradient)."""
    lg, m, s = (np.asarray(getval(a)) for a in _unpack(params))
    x = mg.mixture_sample(rng, lg, m, s, n)
    return float(np.mean(target_log_pdf(x) - mg.mixture_log_pdf(x, lg, m, s)))


def _surrogate_implicit(params, rng, n):
    lg, m, s = _unpack(params)
    x = mg.mixture_sample(rng, lg, m, s, n)                 # implicit gradient for all params
    return -anp.mean(target_log_pdf(x) - mg.mixture_log_pdf(x, lg, m, s))


def _surrogate_score(params, rng, n):
    """Means and scales by per-component reparameterisation, weights by the score function."""
    lg, m, s = _unpack(params)
    log_pi = lg - logsumexp(lg)
    pi = np.exp(getval(log_pi))
    k = rng.choice(len(pi), size=n, p=pi / pi.sum())
    x = m[k] + s[k] * rng.standard_normal((n, m.shape[1]))
    f = target_log_pdf(x) - mg.mixture_log_pdf(x, lg, m, s)
    fv = getval(f)
    baseline = (fv.sum() - fv) / (n - 1)                     # leave-one-out mean
    return -anp.mean(f + (fv - baseline) * log_pi[k])


#: Fractions of the updates and step-size factors of the three stages of :func:`fit_vi` (Adam's
#: moments restart at each stage).
_SCHEDULE = ((0.6, 1.0), (0.25, 1 / 3), (0.15, 1 / 10))


def fit_vi(rng: np.random.Generator, K: int, weights: str = "implicit", steps: int = 1500,
           n: int = 64, step_size: float = 0.03, record_every: int = 50):
    """Fit a $K$-component diagonal mixture $q$ to :data:`TARGET` by stochastic ELBO ascent.

    Parameters
    ----------
    rng : numpy.random.Generator
        Initialisation (means near the origin, unit scales, equal weights) and sampling.
    K : int
        Number of components of $q$ ($K = 1$: a single Gaussian).
    weights : {"implicit", "score"}
        ``"implicit"``: every gradient through :func:`~reference.mixture_gradients.mixture_sample`
        (Graves' gradient). ``"score"``: the same for means and scales within the drawn
        component, and REINFORCE with a leave-one-out baseline for the weights.
    steps, n, step_size : int, int, float
        Adam updates, samples per update, learning rate (divided by 3 after 60% of the updates
        and by 10 after 85%, so that the final ELBO reflects the optimum rather than the noise
        of the last steps).
    record_every : int
        An ELBO estimate (2,000 samples) is recorded every ``record_every`` updates.

    Returns
    -------
    params : dict
        ``logits`` (K,), ``mu`` (K, 2), ``log_sigma`` (K, 2).
    history : dict
        ``step`` and ``elbo`` arrays.
    """
    if weights not in ("implicit", "score"):
        raise ValueError(f"weights must be 'implicit' or 'score', got {weights!r}")
    init = {"logits": np.zeros(K), "mu": rng.normal(size=(K, 2)) * 2.0,
            "log_sigma": np.zeros((K, 2))}
    surrogate = _surrogate_implicit if weights == "implicit" else _surrogate_score
    objective = lambda p, i: surrogate(p, rng, n)
    eval_rng = np.random.default_rng(rng.integers(2**32))
    history = {"step": [], "elbo": []}

    def callback(p, i, g):
        if i % record_every == 0:
            history["step"].append(i)
            history["elbo"].append(elbo(p, eval_rng, 2000))

    params, done = init, 0
    for frac, scale in _SCHEDULE:                # step size divided by 3, then by 10, at the end
        n_iters = int(round(frac * steps))
        offset = done
        params = adam(grad(lambda p, i: objective(p, i + offset)), params,
                      step_size=step_size * scale, num_iters=n_iters,
                      callback=lambda p, i, g: callback(p, i + offset, g))
        done += n_iters
    return params, {k: np.array(v) for k, v in history.items()}


# --------------------------------------------------------------------------------------------
# The reproduce entry
# --------------------------------------------------------------------------------------------
TABLE = [
    ("fd_max_rel_error", "Max relative error, autograd vs central finite differences, "
     "100 random mixtures (D <= 6, K <= 5, scales 0.1-10)", "— (the paper has no check)"),
    ("nan_count_tails", "Non-finite log-densities or gradients at samples up to 40 sd from "
     "every component, scales 1e-3..1e3", "—"),
    ("grad_over_log_pdf_d16_k10", "Cost of sample + gradient / cost of the log-density, "
     "N = 10,000, D = 16, K = 10", "—"),
    ("grad_over_sample_d16_k10", "Cost of sample + gradient / cost of the forward sample, "
     "N = 10,000, D = 16, K = 10", "—"),
    ("speedup_vs_tfp_d16_k10", "TFP-on-JAX time / our time for sample + gradient, D = 16, "
     "K = 10 (empty: TFP not installed)", "—"),
    ("speedup_vs_tfp_d2_k3", "The same at D = 2, K = 3", "—"),
    ("vi_elbo_mixture", "ELBO on the four-mode target, q = 4-component mixture, implicit "
     "gradient, median of 5 seeds (optimum 0)", "—"),
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
        out[f"grad_over_sample_{tag}"] = t["sample_and_grad"] / t["sample"]
        peer = time_tfp(D, K, repeats=repeats, seed=seed)
        out[f"time_tfp_{tag}"] = peer
        out[f"speedup_vs_tfp_{tag}"] = None if peer is None else peer / t["sample_and_grad"]
        print(f"D={D:2d} K={K:2d}: sample+grad {t['sample_and_grad'] * 1e3:.1f} ms, "
              f"x{out[f'grad_over_log_pdf_{tag}']:.2f} of log_pdf, TFP {peer}")
    steps = 300 if quick else 1500
    seeds = range(seed, seed + (2 if quick else 5))
    for name, K, weights in [("mixture", 4, "implicit"), ("score", 4, "score"),
                             ("gaussian", 1, "implicit")]:
        values = [elbo(fit_vi(np.random.default_rng(s), K, weights, steps=steps)[0],
                       np.random.default_rng(s + 1000)) for s in seeds]
        out[f"vi_elbo_{name}"] = float(np.median(values))
        out[f"vi_elbo_{name}_seeds"] = values
        print(f"VI {name}: ELBO median {np.median(values):.3f}, seeds {np.round(values, 3)}")
    return out
