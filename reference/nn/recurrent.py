r"""LSTM: a cell with one fused gate product, an LSTM over a sequence, a bidirectional LSTM.

Gates in the order (i, f, g, o), all four from one product of ``[x, h]`` with ``W``:

$$[\tilde\imath, \tilde f, \tilde g, \tilde o] = [x_t, h_{t-1}]\,W + b,\qquad
  c_t = \sigma(\tilde f)\odot c_{t-1} + \sigma(\tilde\imath)\odot\tanh(\tilde g),\qquad
  h_t = \sigma(\tilde o)\odot\tanh(c_t)$$

(Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000, no peepholes.)
The cell and the whole sequence are primitives with hand-written VJPs (backpropagation through
time written out); ``impl="autograd"`` differentiates the same cell with autograd instead, kept
for the benchmark and as an independent check in the tests.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp_argnums, primitive

from ._checks import check_dim, check_finite, check_rank
from .dense import _check_rng

__all__ = ["lstm_init", "lstm_cell", "lstm", "bilstm"]


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))     # overflow-free logistic


def lstm_init(n_in: int, n_hidden: int, rng: np.random.Generator, dtype=np.float64) -> dict:
    r"""LSTM parameters ``{"W": (n_in + n_hidden, 4 n_hidden), "b": (4 n_hidden,)}``.

    ``W`` is Glorot-normal with fan-in $n_\mathrm{in} + n_\mathrm{hidden}$ and fan-out
    $n_\mathrm{hidden}$ (per gate); ``b`` is zero except the forget gate's, 1 (so the cell
    remembers at the start of training). Gate order along the last axis: (i, f, g, o).

    Parameters
    ----------
    n_in : int
        Number of input features per step (positive).
    n_hidden : int
        Size of the hidden and cell states (positive).
    rng : np.random.Generator
        Source of the random weights.
    dtype : np.float64 or np.float32
        Floating type of ``W`` and ``b``.

    Returns
    -------
    dict
        ``"W"`` ``(n_in + n_hidden, 4 n_hidden)``, the fused weights of the four gates applied
        to the concatenated ``[x, h]``, and ``"b"`` ``(4 n_hidden,)``, their biases.

    Examples
    --------
    >>> import numpy as np
    >>> p = lstm_init(3, 5, np.random.default_rng(0))
    >>> p["W"].shape, p["b"][5:10].tolist()
    ((8, 20), [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    for name, n in (("n_in", n_in), ("n_hidden", n_hidden)):
        if int(n) != n or n < 1:
            raise ValueError(f"{name} must be a positive integer, got {n!r}")
    _check_rng(rng)
    n_in, H = int(n_in), int(n_hidden)
    W = rng.normal(0.0, np.sqrt(2.0 / (n_in + 2 * H)), size=(n_in + H, 4 * H))
    b = np.zeros(4 * H)
    b[H:2 * H] = 1.0
    return {"W": W.astype(dtype), "b": b.astype(dtype)}


def _forward(W, b, xs, h0, c0):
    """Run T steps; returns hs, cs (T, B, H) and the gates (T, B, 4H) for the backward pass."""
    T, B, n_in = xs.shape
    H = h0.shape[1]
    Zx = (xs.reshape(T * B, n_in) @ W[:n_in]).reshape(T, B, 4 * H) + b   # input part, all t
    Wh = W[n_in:]
    hs = np.empty((T, B, H), xs.dtype)
    cs = np.empty((T, B, H), xs.dtype)
    acts = np.empty((T, B, 4 * H), xs.dtype)
    h, c = h0, c0
    for t in range(T):
        z = Zx[t] + h @ Wh                                   # (B, 4H), one fused product
        a = acts[t]
        a[:] = _sigmoid(z)
        a[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = f * c + i * g
        h = o * np.tanh(c)
        hs[t], cs[t] = h, c
    return hs, cs, acts


@primitive
def _lstm_seq(W, b, xs, h0, c0):
    """(T, B, 2H) array: hs in [..., :H], cs in [..., H:]."""
    hs, cs, _ = _forward(W, b, xs, h0, c0)
    return np.concatenate([hs, cs], axis=-1)


def _lstm_seq_vjp(argnums, ans, args, kwargs):
    W, b, xs, h0, c0 = args
    T, B, n_in = xs.shape
    H = h0.shape[1]

    def vjp(G):
        hs, cs, acts = _forward(W, b, xs, h0, c0)
        Wh = W[n_in:]
        dZ = np.empty((T, B, 4 * H), G.dtype)
        dh = np.zeros((B, H), G.dtype)
        dc = np.zeros((B, H), G.dtype)
        for t in range(T - 1, -1, -1):
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c_prev = cs[t - 1] if t else c0
            dh = dh + G[t, :, :H]
            tc = np.tanh(cs[t])
            dc = dc + G[t, :, H:] + dh * o * (1.0 - tc * tc)
            dz = dZ[t]
            dz[:, :H] = dc * g * i * (1.0 - i)
            dz[:, H:2 * H] = dc * c_prev * f * (1.0 - f)
            dz[:, 2 * H:3 * H] = dc * i * (1.0 - g * g)
            dz[:, 3 * H:] = dh * tc * o * (1.0 - o)
            dc = dc * f
            dh = dz @ Wh.T
        dZ2 = dZ.reshape(T * B, 4 * H)
        h_prev = np.concatenate([h0[None], hs[:-1]]).reshape(T * B, H)
        grads = {0: lambda: np.concatenate([xs.reshape(T * B, n_in).T @ dZ2, h_prev.T @ dZ2]),
                 1: lambda: dZ2.sum(axis=0),
                 2: lambda: (dZ2 @ W[:n_in].T).reshape(T, B, n_in),
                 3: lambda: dh, 4: lambda: dc}
        return tuple(grads[k]() for k in argnums)

    return vjp


defvjp_argnums(_lstm_seq, _lstm_seq_vjp)


def _cell_autograd(params, x, h, c):
    """The same cell written with autograd.numpy (differentiated op by op)."""
    H = h.shape[1]
    z = anp.dot(anp.concatenate([x, h], axis=1), params["W"]) + params["b"]   # (B, 4H)
    s = 0.5 * (1.0 + anp.tanh(0.5 * z))
    i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
    c = f * c + i * anp.tanh(z[:, 2 * H:3 * H])
    return o * anp.tanh(c), c


def _check(params, xs, h0, c0, rank):
    n_in = np.shape(params["W"])[0] - np.shape(params["W"])[1] // 4
    H = np.shape(params["W"])[1] // 4
    if np.ndim(params["W"]) != 2 or np.shape(params["b"]) != (4 * H,) or n_in < 1:
        raise ValueError("params must be lstm_init's {'W': (n_in + H, 4 H), 'b': (4 H,)}, got "
                         f"W {np.shape(params['W'])}, b {np.shape(params['b'])}")
    what = "(B, n_in)" if rank == 2 else "(T, B, n_in)"
    shape = check_rank("x" if rank == 2 else "xs", xs, rank, what)
    check_dim("x" if rank == 2 else "xs", shape[-1], n_in, "features (last axis)",
              what.replace("n_in", str(n_in)))
    check_finite("x" if rank == 2 else "xs", xs)
    B = shape[-2]
    for name, s in (("h0" if rank == 3 else "h", h0), ("c0" if rank == 3 else "c", c0)):
        if s is not None and np.shape(s) != (B, H):
            raise ValueError(f"{name} must have shape (B, n_hidden) = ({B}, {H}), "
                             f"got {np.shape(s)}")
    return n_in, H, B


def lstm_cell(params: dict, x, h, c, *, impl: str = "primitive"):
    r"""One LSTM step (module docstring equations) with one fused gate product.

    Parameters
    ----------
    params : dict
        From [`lstm_init`][reference.nn.recurrent.lstm_init].
    x : array, shape (B, n_in)
        The inputs of this step, one row per sequence of the batch.
    h : array, shape (B, n_hidden)
        Previous hidden state $h_{t-1}$.
    c : array, shape (B, n_hidden)
        Previous cell state $c_{t-1}$.
    impl : {"primitive", "autograd"}
        Hand-written VJP (default) or autograd through the cell.

    Returns
    -------
    h : array, shape (B, n_hidden)
        New hidden state $h_t$.
    c : array, shape (B, n_hidden)
        New cell state $c_t$.

    Examples
    --------
    >>> import numpy as np
    >>> p = lstm_init(3, 4, np.random.default_rng(0))
    >>> h, c = lstm_cell(p, np.ones((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)))
    >>> h.shape, bool(np.all(np.abs(h) < 1))
    ((2, 4), True)
    """
    _, H, _ = _check(params, x, h, c, rank=2)
    if impl == "autograd":
        return _cell_autograd(params, x, h, c)
    if impl != "primitive":
        raise ValueError(f"impl must be 'primitive' or 'autograd', got {impl!r}")
    hc = _lstm_seq(params["W"], params["b"], x[None], h, c)[0]       # (B, 2H)
    return hc[:, :H], hc[:, H:]


def lstm(params: dict, xs, h0=None, c0=None, *, impl: str = "primitive"):
    r"""Run an LSTM over a sequence: $h_t, c_t$ from $x_t, h_{t-1}, c_{t-1}$ for t = 0..T-1.

    Parameters
    ----------
    params : dict
        From [`lstm_init`][reference.nn.recurrent.lstm_init].
    xs : array, shape (T, B, n_in)
        Inputs, time first.
    h0 : array, shape (B, n_hidden), optional
        Initial hidden state; zeros when omitted.
    c0 : array, shape (B, n_hidden), optional
        Initial cell state; zeros when omitted.
    impl : {"primitive", "autograd"}
        One primitive for the whole sequence with a hand-written backward pass through time
        (default), or autograd through [`lstm_cell`][reference.nn.recurrent.lstm_cell] at each step.

    Returns
    -------
    hs : array, shape (T, B, n_hidden)
        Hidden states after each step.
    final : tuple of array
        ``(h, c)``, the final hidden and cell states, each of shape ``(B, n_hidden)``.

    Examples
    --------
    >>> import numpy as np
    >>> p = lstm_init(3, 4, np.random.default_rng(0))
    >>> hs, (h, c) = lstm(p, np.ones((5, 2, 3)))
    >>> hs.shape, bool(np.allclose(hs[-1], h))
    ((5, 2, 4), True)
    """
    _, H, B = _check(params, xs, h0, c0, rank=3)
    dtype = np.result_type(xs)
    h0 = np.zeros((B, H), dtype) if h0 is None else h0
    c0 = np.zeros((B, H), dtype) if c0 is None else c0
    if impl == "autograd":
        h, c, hs = h0, c0, []
        for t in range(np.shape(xs)[0]):
            h, c = _cell_autograd(params, xs[t], h, c)
            hs.append(h)
        return anp.stack(hs), (h, c)
    if impl != "primitive":
        raise ValueError(f"impl must be 'primitive' or 'autograd', got {impl!r}")
    out = _lstm_seq(params["W"], params["b"], xs, h0, c0)            # (T, B, 2H)
    hs = out[:, :, :H]
    return hs, (hs[-1], out[-1, :, H:])


def bilstm(params_fw: dict, params_bw: dict, xs, *, impl: str = "primitive"):
    r"""Bidirectional LSTM: one LSTM reads ``xs[0..T-1]``, the other ``xs[T-1..0]``.

    Parameters
    ----------
    params_fw : dict
        The forward LSTM, from [`lstm_init`][reference.nn.recurrent.lstm_init].
    params_bw : dict
        The backward LSTM, from [`lstm_init`][reference.nn.recurrent.lstm_init], with the
        same ``n_in`` as ``params_fw``.
    xs : array, shape (T, B, n_in)
        Inputs, time first.
    impl : {"primitive", "autograd"}
        How each LSTM is differentiated, as in [`lstm`][reference.nn.recurrent.lstm].

    Returns
    -------
    hs_fw : array, shape (T, B, n_hidden)
        Forward hidden states: ``hs_fw[t]`` has read ``xs[0..t]``.
    hs_bw : array, shape (T, B, n_hidden)
        Backward hidden states, aligned with ``t``: ``hs_bw[t]`` has read ``xs[T-1..t]``, so
        ``hs_bw[0]`` is the backward LSTM's final state.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fw, bw = lstm_init(3, 4, rng), lstm_init(3, 4, rng)
    >>> hf, hb = bilstm(fw, bw, np.ones((5, 2, 3)))
    >>> hf.shape, hb.shape
    ((5, 2, 4), (5, 2, 4))
    """
    hs_fw, _ = lstm(params_fw, xs, impl=impl)
    hs_bw, _ = lstm(params_bw, xs[::-1], impl=impl)
    return hs_fw, hs_bw[::-1]
