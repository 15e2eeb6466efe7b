r"""The sampling estimator of the implicit gradient, by rejection (Eqs. 9-10 of Graves, 2016).

When $\partial F / \partial \theta$ has no closed form, the integral of Eq. (6) is an expectation
under the density truncated to $t \le \hat x$ (Eq. 10), which can be sampled by drawing from the
density and keeping the draws below $\hat x$.
"""

from __future__ import annotations

import numpy as np
from autograd import jacobian, make_jvp

from ._checks import check_draws, check_rejection

__all__ = ["rejection_gradient"]


def rejection_gradient(rng, x_hat, theta, log_pdf, sample, n_samples, cdf=None, max_draws=10**7):
    r"""Sampling estimate of the implicit gradient, by rejection from the truncated density.

    Implements Eqs. (9)-(10) of Graves (2016). When $\partial F / \partial \theta$ has no
    closed form, write the integral of Eq. (6) as an expectation under the density truncated
    to $t \le \hat x$ (Eq. 10), and sample it by drawing $t \sim f$ and keeping $t \le \hat x$:

    $$
    \int_{-\infty}^{\hat x} \frac{\partial f(t)}{\partial \theta}\,dt
    = F(\hat x)\, \mathbb{E}_{t \sim f(t \mid t \le \hat x)}
      \left[\frac{\partial \log f(t; \theta)}{\partial \theta}\right],
    \qquad
    \frac{\partial \hat x}{\partial \theta} \approx
    -\frac{F(\hat x)}{f(\hat x)} \frac{1}{M} \sum_{m=1}^{M}
      \frac{\partial \log f(t_m; \theta)}{\partial \theta} .
    $$

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the proposals passed to ``sample``.
    x_hat : float
        The sample whose gradient is estimated (a scalar, one call per sample).
    theta : ndarray, shape (P,)
        The density's parameters, at least one, all finite.
    log_pdf : callable
        ``log_pdf(t, theta)`` for a vector ``t``, autograd-differentiable in ``theta``.
    sample : callable
        ``sample(rng, theta, n)`` returns ``n`` draws of the density.
    n_samples : int
        ``M``, the number of accepted draws to average.
    cdf : callable, optional
        ``cdf(x, theta)``. If given, $F(\hat x)$ is exact and the estimate is unbiased; if not,
        $F(\hat x)$ is estimated by the acceptance rate (a ratio estimator, consistent but
        slightly biased for small ``M``).
    max_draws : int
        Stop with a ``RuntimeError`` past this many proposals (deep left tails).

    Raises
    ------
    ValueError
        On bad arguments (``theta`` empty or not finite, ``x_hat`` not a finite scalar,
        ``n_samples`` not a positive integer), or when ``sample`` returns NaN, inf or the wrong
        shape (reported as the sampler's fault, on the first batch that shows it).

    Returns
    -------
    estimate : ndarray, shape (P,)
        The estimate of $\partial \hat x / \partial \theta$.
    info : dict
        ``draws`` (proposals made), ``accepted``, ``acceptance_rate``, ``std_error`` (per
        parameter, from the spread of the accepted scores).

    Notes
    -----
    Acceptance is $F(\hat x)$, so the expected number of proposals is $M / F(\hat x)$: cheap in
    the bulk, expensive far in the left tail. The complementary form (keep $t \ge \hat x$,
    acceptance $1 - F$) is the same function applied to the mirrored density $t \mapsto -t$;
    the docs page and the rejection-sampling example compare the two.

    Proposals are drawn in batches that double (from ``max(64, M)`` up to ``10**6``), so the
    number of proposals can exceed $M / F(\hat x)$ by up to a factor of two. The per-sample
    scores are taken in forward mode where autograd has the rules, otherwise by reverse mode over
    chunks of 256 draws, so the cost is linear in $M$.
    """
    x_hat, theta, n_samples = check_rejection(rng, x_hat, theta, n_samples)
    accepted = []
    draws = 0
    batch = max(64, n_samples)
    while sum(len(a) for a in accepted) < n_samples:
        if draws >= max_draws:
            raise RuntimeError(
                f"rejection sampling drew {draws} proposals and kept "
                f"{sum(len(a) for a in accepted)}; x_hat is too far in the left tail")
        t = check_draws(sample(rng, theta, batch), batch)
        draws += batch
        accepted.append(t[t <= x_hat])
        batch = min(2 * batch, 10**6)
    t = np.concatenate(accepted)[:n_samples]
    scores = _vector_scores(log_pdf, t, theta)                     # (M, P)
    F = float(cdf(x_hat, theta)) if cdf is not None else len(np.concatenate(accepted)) / draws
    log_f = float(log_pdf(np.array([x_hat]), theta)[0])
    ratio = np.exp(np.log(F) - log_f)
    estimate = -ratio * scores.mean(axis=0)
    std_error = ratio * scores.std(axis=0, ddof=1) / np.sqrt(len(t)) if len(t) > 1 else np.inf
    return estimate, {"draws": draws, "accepted": int(len(t)),
                      "acceptance_rate": len(np.concatenate(accepted)) / draws,
                      "std_error": std_error}


def _vector_scores(log_pdf, t, theta):
    """Per-sample scores d log f(t_m)/d theta, (M, *theta.shape), in O(P M).

    One forward-mode pass per parameter (P of them) gives a column for all M samples at once.
    Many of autograd's ``scipy`` functions have no forward-mode rule; then the reverse-mode
    Jacobian is taken over chunks of 256 samples (``log_pdf`` is elementwise in ``t``), which
    keeps the cost linear in M instead of the M passes over all M samples of one Jacobian.
    """
    try:
        jvp = make_jvp(lambda th: log_pdf(t, th))(theta)
        basis = np.eye(theta.size).reshape((theta.size,) + theta.shape)
        cols = [np.asarray(jvp(e)[1], dtype=float) for e in basis]
        return np.stack(cols, axis=-1).reshape((len(t),) + theta.shape)
    except NotImplementedError:
        return np.concatenate([jacobian(lambda th: log_pdf(t[i:i + 256], th))(theta)
                               for i in range(0, len(t), 256)])

