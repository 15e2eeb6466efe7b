r"""Helpers shared by the tests, the reproduce commands and the gallery.

- ``central_difference``: a central finite-difference
  gradient that calls back a function which solves again from scratch at every perturbed
  parameter (for a sampler: the same noise, a new root-finding solve). It shares no code with
  the gradient it checks.
- ``random_mixture``: random Gaussian-mixture parameters with
  one argument order, ``(rng, D, K, ...)``, for the Graves (2016) package.
- ``source_key``: a short hash of a package's source files, for naming the models the gallery
  caches between examples, so that a file written by older code is never read back.
- ``cached_runs``: run a few jobs once and read their results back from files afterwards, for
  the gallery examples that share trained models.
- ``results_record``: a paper's results file, ``docs/results/<paper>.json``, as a dict, for the
  gallery examples that plot the full reproduce run next to what they train themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
import timeit
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ["central_difference", "relative_error", "random_mixture", "best_time", "source_key",
           "cached_runs", "results_record"]

#: The source tree: ``docs/results`` below it holds the results files of the reproduce runs.
ROOT = Path(__file__).resolve().parents[1]


def central_difference(resolve: Callable[..., float], params: Sequence[np.ndarray], argnum: int,
                       step=1e-6, mask=None) -> np.ndarray:
    r"""Central finite differences of a scalar function in every entry of one parameter.

    $$
    \frac{\partial L}{\partial \theta_j}
    \approx \frac{L(\theta + h_j e_j) - L(\theta - h_j e_j)}{2 h_j}
    $$

    Parameters
    ----------
    resolve : callable
        ``resolve(*params) -> float``. It must recompute everything from the parameters it is
        given (for an implicitly defined sample: keep the noise fixed and solve again), so that
        the differences test the gradient against an independent computation.
    params : sequence of ndarray
        The point; not modified (each evaluation gets copies).
    argnum : int
        Which parameter to difference.
    step : float or ndarray
        $h$, one number or an array shaped like ``params[argnum]`` (a step per entry, e.g.
        relative to the entry's size).
    mask : ndarray of bool, optional
        Entries to difference (shaped like ``params[argnum]``); the others are left at 0, e.g.
        the upper triangle of a Cholesky factor, which is not a parameter.

    Returns
    -------
    ndarray, shaped like ``params[argnum]``
        The estimated partial derivatives, one per entry of the parameter (0 where ``mask``
        is false).
    """
    p = np.asarray(params[argnum])
    steps = np.broadcast_to(np.asarray(step, dtype=float), p.shape)
    if np.any(steps <= 0):
        raise ValueError("step must be positive")
    if mask is not None and np.shape(mask) != p.shape:
        raise ValueError(f"mask has shape {np.shape(mask)}; it must match the parameter {p.shape}")
    g = np.zeros(p.shape)
    for idx in np.ndindex(p.shape):
        if mask is not None and not mask[idx]:
            continue
        h = steps[idx]
        plus = [np.array(q, dtype=float) for q in params]
        minus = [np.array(q, dtype=float) for q in params]
        plus[argnum][idx] += h
        minus[argnum][idx] -= h
        g[idx] = (resolve(*plus) - resolve(*minus)) / (2 * h)
    return g


def relative_error(a, b) -> float:
    r"""$\max |a - b| / \max |b|$ (with $\max |b|$ floored at ``1e-300``).

    Parameters
    ----------
    a : array_like
        The value under test, e.g. an analytic gradient.
    b : array_like
        The reference value, e.g. finite differences; broadcast against ``a``.

    Returns
    -------
    float
        The largest absolute difference, relative to the largest entry of ``b``.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))


def random_mixture(rng: np.random.Generator, D: int, K: int, log10_scale=(-1.0, 1.0),
                   spread: float = 2.0, full: bool = False, corr: float = 0.5):
    r"""Random parameters of a $K$-component Gaussian mixture in $D$ dimensions.

    ``logits`` are standard normal; the scales are log-uniform,
    $\log_{10} \sigma_{kd} \sim U(\text{log10\_scale})$; the means are normal with standard
    deviation ``spread`` times the median scale. With ``full=True`` the scales become the
    diagonals of lower-triangular Cholesky factors whose entries below the diagonal are normal
    with standard deviation ``corr / sqrt(D)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw.
    D : int
        Number of dimensions.
    K : int
        Number of mixture components.
    log10_scale : (float, float)
        Range ``(low, high)`` of $\log_{10}$ of the scales; the default gives scales from 0.1
        to 10.
    spread : float
        Standard deviation of the means, in units of the median scale.
    full : bool
        If true, return Cholesky factors of full covariances instead of diagonal scales.
    corr : float
        Size of the off-diagonal Cholesky entries (their standard deviation is
        ``corr / sqrt(D)``); used only with ``full=True``.

    Returns
    -------
    tuple of ndarray
        ``(logits (K,), mu (K, D), sigma (K, D))``, or ``(logits, mu, L (K, D, D))`` with
        ``full=True``.
    """
    logits = rng.normal(size=K)
    sigma = 10.0 ** rng.uniform(*log10_scale, size=(K, D))
    mu = rng.normal(size=(K, D)) * spread * np.median(sigma)
    if not full:
        return logits, mu, sigma
    L = np.tril(corr * rng.normal(size=(K, D, D)) / np.sqrt(D), -1)
    L[:, np.arange(D), np.arange(D)] = sigma
    return logits, mu, L


def best_time(fn: Callable[[], object], repeats: int, clock=time.process_time) -> float:
    """Smallest time in seconds of ``repeats`` calls of ``fn()`` (``timeit.repeat``, one call each).

    ``clock`` is ``time.process_time`` by default: CPU seconds of this process (all its
    threads), which other jobs on a shared machine barely change; pass ``time.perf_counter``
    for wall time. The benchmarks, the reproduce commands and the gallery time with this one
    function.

    Parameters
    ----------
    fn : callable
        The code to time, called with no arguments; its result is discarded.
    repeats : int
        Number of timed calls (positive); the minimum is the least disturbed one.
    clock : callable
        The timer, ``time.process_time`` (CPU seconds) by default.

    Returns
    -------
    float
        The shortest of the ``repeats`` timings, in seconds of ``clock``.
    """
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    return min(timeit.repeat(fn, timer=clock, number=1, repeat=int(repeats)))


def source_key(module) -> str:
    r"""Twelve hex digits of SHA-256 over the ``.py`` files of a module's folder (its package).

    $$
    \text{key} = \operatorname{sha256}\big(\textstyle\Vert_{f} \text{name}_f \Vert
    \text{bytes}_f\big)_{1:12}, \quad f \text{ the package's files in name order.}
    $$

    Parameters
    ----------
    module : module
        Any module of the package (``reference.neural_statistician``, for example); its
        ``__file__`` locates the folder.

    Returns
    -------
    str
        The key; it changes whenever any ``.py`` file of the folder changes, appears or goes.
    """
    folder = Path(module.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cached_runs(jobs: Mapping[str, Callable[[], object]], folder, tag: str) -> dict:
    r"""The result of each job, computed once and read back from a pickle file afterwards.

    Job ``name`` is stored as ``folder / f"{name}_{tag}.pkl"``. A job whose file exists is read
    back; the others run in order, and each result is written under a temporary name and then
    renamed, so that a run stopped half way never leaves a partial file. The name and the tag
    must say everything the result depends on: the job's arguments, and a `source_key` of the
    code it runs.

    Parameters
    ----------
    jobs : mapping of str to callable
        ``name -> job``, each job called with no arguments (e.g. a ``functools.partial``); its
        result must pickle.
    folder : str or Path
        Where the files go (created if missing), e.g. under ``tempfile.gettempdir()``.
    tag : str
        The part of every file name after the job's name.

    Returns
    -------
    dict
        ``name -> result``, in the order of ``jobs``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, job in jobs.items():
        path = folder / f"{name}_{tag}.pkl"
        if not path.is_file():
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(job()))
            tmp.replace(path)
        out[name] = pickle.loads(path.read_bytes())
    return out


def results_record(paper: str) -> dict:
    r"""The results file of a paper's full reproduce run, ``docs/results/<paper>.json``.

    Parameters
    ----------
    paper : str
        The paper's package name, e.g. ``"controllable_features"``.

    Returns
    -------
    dict
        The record as written by ``python -m reference.reproduce <paper>``: ``"command"``,
        ``"commit"``, ``"date"``, ``"metrics"`` (a flat dict) and the other fields.
    """
    path = ROOT / "docs" / "results" / f"{paper}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `python -m reference.reproduce "
                                f"{paper}` to write it")
    return json.loads(path.read_text())
