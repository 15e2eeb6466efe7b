"""Property tests of reference.mixture_gradients that reach the corners (issue 10).

Every case is a random mixture with scales from 1e-3 to 1e3 mixed inside one mixture (or its
components 15 standard deviations apart), and uniform noise from the smallest subnormal
``5e-324`` to ``1 - 2**-53``. Each case checks

- the samples against an independent solver: ancestral bisection on the log-CDF (or on the
  log of the upper tail above the median), written here from scipy's ``log_ndtr`` and sharing
  no code with the package's Newton solver;
- the gradient (autograd through the implicit-gradient VJP) against a central difference of
  the re-solved samples along a random direction of all parameters;
- that nothing is NaN or inf, and that the two forms of ``mixture_log_pdf`` (matrix products
  and direct) agree.

The cases are drawn with ``derandomize=True`` so every run checks the same ones.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import log_ndtr, logsumexp, ndtri_exp

from reference import mixture_gradients as mg
from reference.mixture_gradients.density import _log_comp_direct
from reference.nn import log_softmax

#: Cases per test in the default run (diagonal, full covariance): 2,100 in all.
N_DIAG, N_FULL = 1500, 600
SMALLEST, LARGEST = 5e-324, 1 - 2.0 ** -53
#: What the two tests measured, for the report: worst errors and case counts.
WORST = {}

PROPERTY = settings(deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


# ---------------------------------------------------------------------------- case generation
@st.composite
def noise(draw, D, N=3):
    """u (N, D): plain uniforms, log-uniform deep tails on either side, and the two extremes."""
    kind = st.sampled_from(["bulk", "low", "high", "min", "max"])
    u = np.empty((N, D))
    for idx in np.ndindex(N, D):
        k = draw(kind)
        if k == "bulk":
            u[idx] = draw(st.floats(1e-3, 1 - 1e-3))
        elif k == "low":
            u[idx] = 10.0 ** -draw(st.floats(3, 323))
        elif k == "high":
            u[idx] = 1 - 10.0 ** -draw(st.floats(3, 15.9))
        else:
            u[idx] = SMALLEST if k == "min" else LARGEST
    return u


@st.composite
def mixtures(draw, full=False):
    """(logits, mu, scale, u): scales 10^U(-3, 3) per entry, or components 15 sd apart."""
    K, D = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    logits = rng.normal(size=K)
    sigma = 10.0 ** rng.uniform(-3, 3, size=(K, D))
    if draw(st.booleans()):                  # neighbours 15 of their sds apart, every coordinate
        sigma = np.repeat(10.0 ** rng.uniform(-3, 3, size=(1, D)), K, axis=0) \
            * 10.0 ** rng.uniform(-0.5, 0.5, size=(K, D))
        gaps = 15.0 * (sigma[1:] + sigma[:-1])
        mu = np.concatenate([np.zeros((1, D)), np.cumsum(gaps, axis=0)])
    else:
        mu = rng.normal(size=(K, D)) * sigma * 3.0
    scale = sigma
    if full:
        scale = np.tril(0.5 * rng.normal(size=(K, D, D)) / np.sqrt(D), -1) \
            * sigma[:, None, :] + sigma[:, :, None] * np.eye(D)
    return logits, mu, scale, draw(noise(D))


# ---------------------------------------------------------------------------- independent solver
def reference_quantile(u, logits, mu, L, given=None):
    """Ancestral bisection on log F (lower half) or log(1 - F) (upper half), (N, D).

    L (K, D, D) lower-triangular; the conditional of x_d under component k is Gaussian with
    mean mu_kd + sum_{e<d} L_de z_e and scale L_dd. Bisection runs to a few ulps. Also
    returns F/f (or (1 - F)/f) at the root, the conditioning of x in log u. With ``given``
    (N, D), each conditional is taken given ``given[:, :d]`` instead of the roots found here,
    so that each 1-D solve is checked on its own (errors do not propagate along d).
    """
    N, D = u.shape
    K = len(logits)
    x, cond = np.empty((N, D)), np.empty((N, D))
    z = np.zeros((N, K, D))
    log_w = np.broadcast_to(logits - logsumexp(logits), (N, K)).copy()
    diag = np.diagonal(L, axis1=1, axis2=2)
    for d in range(D):
        w = log_w - logsumexp(log_w, axis=1, keepdims=True)
        m = mu[None, :, d] + np.einsum("ke,nke->nk", L[:, d, :d], z[:, :, :d])    # (N, K)
        s = diag[None, :, d]
        upper = u[:, d] > 0.5
        target = np.where(upper, np.log1p(-u[:, d]), np.log(u[:, d]))
        # the root lies between the components' own u-quantiles (widened by one scale)
        q = np.where(upper, -ndtri_exp(target), ndtri_exp(target))[:, None]
        lo, hi = (m + s * q - s).min(axis=1), (m + s * q + s).max(axis=1)
        sign = np.where(upper, -1.0, 1.0)[:, None]
        width = 1e-17 * np.abs(hi - lo) + 1e-15 * s.min()      # far below the solver's error
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            t = w + log_ndtr(sign * (mid[:, None] - m) / s)
            top = t.max(axis=1)
            val = top + np.log(np.sum(np.exp(t - top[:, None]), axis=1))
            below = np.where(upper, val > target, val < target)    # root is right of mid
            if np.all(hi - lo <= width + 4e-16 * np.abs(mid)):
                break
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        x[:, d] = 0.5 * (lo + hi)
        zz = (x[:, d, None] - m) / s
        log_f = logsumexp(w - 0.5 * zz ** 2 - np.log(s), axis=1) - 0.5 * np.log(2 * np.pi)
        with np.errstate(over="ignore"):
            cond[:, d] = np.exp(np.minimum(target, 0) - log_f)
        if given is not None:
            zz = (given[:, d, None] - m) / s
        z[:, :, d] = zz
        log_w = log_w - 0.5 * zz ** 2 - np.log(s)
    return x, cond


# ---------------------------------------------------------------------------- the checks
def directional_check(quantile, u, logits, mu, scale, rng, lower=None):
    """Autograd's directional derivative of sum(c x) against re-solved central differences.

    Moves logits by t v_a, mu by t v_mu * scale and the scales multiplicatively (exp(t v_s));
    returns (error relative to sum |c dx/dt|, the autograd gradients).
    """
    sig = np.abs(scale) if scale.ndim == 2 else np.abs(np.diagonal(scale, axis1=1, axis2=2))
    v = [rng.normal(size=logits.shape), rng.normal(size=mu.shape) * sig,
         rng.normal(size=scale.shape) * (lower if lower is not None else 1.0)]
    c = rng.normal(size=u.shape)

    def at(t):
        return quantile(u, logits + t * v[0], mu + t * v[1], scale * np.exp(t * v[2]))

    g = grad(lambda a, m, s: anp.sum(c * quantile(u, a, m, s)), (0, 1, 2))(logits, mu, scale)
    exact = np.sum(g[0] * v[0]) + np.sum(g[1] * v[1]) + np.sum(g[2] * scale * v[2])
    # central differences at h and h/2, Richardson-extrapolated (error O(h^4)): samples deep in
    # a tail between far-apart components curve so much that O(h^2) alone is not enough
    h = 1e-6
    d1, d2 = ((at(e) - at(-e)) / (2 * e) for e in (h, h / 2))
    dx = (4 * d2 - d1) / 3
    fd = np.sum(c * dx)
    return abs(fd - exact) / max(np.sum(np.abs(c * dx)), 1e-300), g


def check_case(quantile, logits, mu, scale, u, tag):
    L = scale if scale.ndim == 3 else scale[:, :, None] * np.eye(scale.shape[1])
    x = quantile(u, logits, mu, scale)
    assert np.all(np.isfinite(x))
    x_ref, cond = reference_quantile(u, logits, mu, L, given=x)
    s_min = np.min(np.diagonal(L, axis1=1, axis2=2), axis=0)                          # (D,)
    # x is known to about eps * F/f (the conditioning in log u) plus a few ulps of x
    err = np.abs(x - x_ref) / (np.abs(x_ref) * 1e-16 + cond * 1e-15 + s_min * 1e-12)
    WORST[tag + "_value"] = max(WORST.get(tag + "_value", 0.0), float(err.max()))
    assert np.all(err < 1e3), (x, x_ref, cond)
    rng = np.random.default_rng(int(np.abs(u).sum() * 1e6) % 2**32)
    lower = np.tril(np.ones(scale.shape)) if scale.ndim == 3 else None
    rel, g = directional_check(quantile, u, logits, mu, scale, rng, lower)
    WORST[tag + "_grad"] = max(WORST.get(tag + "_grad", 0.0), rel)
    WORST[tag + "_cases"] = WORST.get(tag + "_cases", 0) + 1
    assert all(np.all(np.isfinite(a)) for a in g)
    assert rel < 1e-5, rel
    return x


@settings(PROPERTY, max_examples=N_DIAG)
@given(case=mixtures())
def test_diagonal_quantile_values_gradients_and_log_pdf(case):
    logits, mu, sigma, u = case
    x = check_case(mg.mixture_quantile, logits, mu, sigma, u, "diag")
    fast = mg.mixture_log_pdf(x, logits, mu, sigma)
    direct = logsumexp(log_softmax(logits)[None] + _log_comp_direct(x, mu, sigma), axis=1)
    assert np.all(np.isfinite(fast))
    rel = np.max(np.abs(fast - direct) / (1 + np.abs(direct)))
    WORST["log_pdf"] = max(WORST.get("log_pdf", 0.0), float(rel))
    assert rel < 1e-10


@settings(PROPERTY, max_examples=N_FULL)
@given(case=mixtures(full=True))
def test_full_covariance_quantile_values_and_gradients(case):
    logits, mu, L, u = case
    check_case(mg.mixture_quantile_full, logits, mu, L, u, "full")


def test_the_default_run_checked_at_least_2000_cases():
    """Runs last in this file: the case count, and what was measured (``pytest -s`` shows it)."""
    if "diag_cases" not in WORST or "full_cases" not in WORST:
        pytest.skip("run the whole file to count the cases")
    print({k: (f"{v:.2e}" if isinstance(v, float) else v) for k, v in WORST.items()})
    assert WORST["diag_cases"] + WORST["full_cases"] >= 2000
