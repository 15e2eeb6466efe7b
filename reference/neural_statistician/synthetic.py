r"""Section 5.1: data sets drawn from simple one-dimensional families.

Each data set comes from one of four families (exponential, Gaussian, uniform, Laplace) with a
random mean $m \sim U(-1, 1)$ and variance $v \sim U(0.5, 2)$, and has 200 items; the context
has 3 dimensions (the paper's set-up as we read it). Every family is **standardised the same
way**: a zero-mean, unit-variance version of the family is drawn and mapped by
$x = m + \sqrt v\, u$, so that the mean and variance carry no information about the family and
only the shape does (a mix of scale conventions would let the variance alone reveal the family).

The probes here measure what the learned context knows: the family from the context mean by
5-nearest-neighbour and by logistic regression on held-out sets; the ceiling set by a classifier
on each set's standardised moments; and the per-item cost of a one-Gaussian-per-set fit, the
level a model that has not learned shape stays at.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._checks import check_positive_int, check_rng

__all__ = [
    "FAMILIES", "sample_family_sets", "standardised_moments", "family_probe",
    "gaussian_fit_nll", "true_family_nll",
]

#: The four families of Section 5.1, in label order.
FAMILIES = ("exponential", "gaussian", "uniform", "laplace")


def _unit(family: str, size, rng):
    """Zero-mean, unit-variance draws from one family."""
    if family == "exponential":
        return rng.exponential(1.0, size) - 1.0
    if family == "gaussian":
        return rng.standard_normal(size)
    if family == "uniform":
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size)
    if family == "laplace":
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), size)
    raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")


def sample_family_sets(n_sets: int, set_size: int, rng: np.random.Generator,
                       families=FAMILIES, mean_range=(-1.0, 1.0), var_range=(0.5, 2.0)):
    r"""Draw data sets from the one-dimensional families of Section 5.1.

    $$
    k \sim U\{1..4\},\quad m \sim U(-1, 1),\quad v \sim U(0.5, 2),\quad
    x_i = m + \sqrt{v}\, u_i,\quad u_i \overset{iid}{\sim} \text{family}_k \text{ standardised}.
    $$

    Parameters
    ----------
    n_sets : int
        Number of data sets to draw.
    set_size : int
        Items per set (200 in the paper's set-up as we read it).
    rng : np.random.Generator
        Draws each set's family, mean, variance and items.
    families : sequence of str
        Subset of `FAMILIES` to draw from (uniformly).
    mean_range : (float, float)
        ``(low, high)`` of the uniform distribution of each set's mean $m$.
    var_range : (float, float)
        ``(low, high)`` of the uniform distribution of each set's variance $v$ (low > 0).

    Returns
    -------
    dict
        ``D`` (n_sets, set_size, 1) float64, ``family`` int (n_sets,) indices into
        ``families``, ``mean`` and ``var`` (n_sets,), ``families`` the tuple.
    """
    check_rng(rng)
    n_sets = check_positive_int("n_sets", n_sets)
    set_size = check_positive_int("set_size", set_size)
    families = tuple(families)
    k = rng.integers(len(families), size=n_sets)
    m = rng.uniform(*mean_range, size=n_sets)
    v = rng.uniform(*var_range, size=n_sets)
    D = np.empty((n_sets, set_size, 1))
    for j, fam in enumerate(families):
        idx = np.flatnonzero(k == j)
        D[idx, :, 0] = _unit(fam, (idx.size, set_size), rng)
    D = m[:, None, None] + np.sqrt(v)[:, None, None] * D
    return {"D": D, "family": k, "mean": m, "var": v, "families": families}


def standardised_moments(D, orders=(3, 4, 5, 6)):
    r"""Each set's standardised sample moments: the shape features of the ceiling (Section 5.1).

    $$
    \tilde\mu_r = \frac{1}{N} \sum_i \left(\frac{x_i - \bar x}{s}\right)^r,\quad r = 3, 4, \dots
    $$

    Parameters
    ----------
    D : array, shape (B, N, 1)
        B one-dimensional data sets of N items (a set whose items are all equal has no
        standardised moments and gives NaN).
    orders : sequence of int
        The orders $r$ to compute (orders 1 and 2 are always 0 and 1).

    Returns
    -------
    moments : ndarray, shape (B, len(orders))
        $\tilde\mu_r$ of each set, one column per entry of ``orders``.
    """
    x = np.asarray(D)[..., 0]
    u = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)
    return np.stack([np.mean(u ** r, axis=1) for r in orders], axis=1)


def family_probe(train_features, train_labels, test_features, test_labels) -> dict:
    r"""Accuracy of predicting the family from per-set features on held-out sets (Section 5.1).

    Two probes, fitted on the training sets' features (standardised) and scored on held-out
    sets: 5-nearest-neighbour and multinomial logistic regression. (Nearest centroid is the
    wrong probe: the families form curved, elongated clusters in context space.)

    $$
    \text{accuracy} = \frac{1}{|T|} \sum_{t \in T} [\hat k(f_t) = k_t].
    $$

    Parameters
    ----------
    train_features : array, shape (n, f)
        f features of each of the n training sets (e.g. `context_means` or
        `standardised_moments`).
    train_labels : int array, shape (n,)
        The family index of each training set.
    test_features : array, shape (m, f)
        The same f features of the m held-out sets.
    test_labels : int array, shape (m,)
        The family index of each held-out set.

    Returns
    -------
    dict
        ``knn5`` and ``logistic``: the fraction of held-out sets whose family the
        5-nearest-neighbour and the logistic-regression probe predict correctly, in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Xtr, Xte = np.asarray(train_features, float), np.asarray(test_features, float)
    if Xtr.ndim != 2 or Xte.ndim != 2 or Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"features must be 2-D with equal widths, got {Xtr.shape}, {Xte.shape}")
    if len(Xtr) != len(train_labels) or len(Xte) != len(test_labels):
        raise ValueError("features and labels must have the same number of rows")
    out = {}
    for name, clf in (("knn5", KNeighborsClassifier(5)),
                      ("logistic", LogisticRegression(max_iter=2000))):
        model = make_pipeline(StandardScaler(), clf).fit(Xtr, train_labels)
        out[name] = float(np.mean(model.predict(Xte) == np.asarray(test_labels)))
    return out


def gaussian_fit_nll(D) -> float:
    r"""Nats per item of the maximum-likelihood Gaussian fitted to each set (Section 5.1 level).

    $$
    \frac{1}{N}\sum_i -\log \mathcal N(x_i; \bar x, s^2) = \tfrac12 \log(2\pi e s^2),
    $$

    averaged over sets. A model whose bound per item stays near this level has learned each
    set's location and scale but not its shape.

    Parameters
    ----------
    D : array, shape (B, N, 1)
        B one-dimensional data sets of N items.

    Returns
    -------
    float
        The negative log-likelihood in nats per item, averaged over the B sets, with $s^2$
        each set's maximum-likelihood (biased) variance.
    """
    x = np.asarray(D)[..., 0]
    return float(np.mean(0.5 * np.log(2 * np.pi * np.e * x.var(axis=1))))


def true_family_nll(data: dict) -> float:
    r"""Nats per item under each set's true generating density (Section 5.1 reference level).

    $$
    \frac{1}{BN} \sum_{b, i} -\log p_{k_b}(x_{bi}; m_b, v_b).
    $$

    Parameters
    ----------
    data : dict
        From `sample_family_sets`.

    Returns
    -------
    float
        The negative log-density in nats per item, averaged over all $B N$ items of ``data``.
    """
    D, k, m, v = data["D"][..., 0], data["family"], data["mean"], data["var"]
    s = np.sqrt(v)[:, None]
    total = 0.0
    for j, fam in enumerate(data["families"]):
        idx = k == j
        u = (D[idx] - m[idx, None]) / s[idx]
        if fam == "exponential":
            logp = stats.expon.logpdf(u + 1.0)
        elif fam == "gaussian":
            logp = stats.norm.logpdf(u)
        elif fam == "uniform":
            logp = stats.uniform.logpdf(u, -np.sqrt(3.0), 2 * np.sqrt(3.0))
        else:
            logp = stats.laplace.logpdf(u, 0.0, 1.0 / np.sqrt(2.0))
        total += np.sum(logp - np.log(s[idx]))
    return float(-total / D.size)
