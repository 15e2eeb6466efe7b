r"""Shared layers for the paper packages (not paper equations): ``from reference.nn import X``.

| file | contents |
| --- | --- |
| ``dense.py`` | initialisers, dense layers, MLPs, ReLU, (log-)softmax, the Adam training loop |
| ``conv.py`` | ``conv2d`` (NHWC, weights (kh, kw, C_in, C_out)), im2col + one matrix product |
| ``pooling.py`` | ``max_pool2d``, 2x2 stride 2, floor; ``upsample2d``, nearest 2x |
| ``normalization.py`` | ``batch_norm`` (three modes), ``batch_stats``, ``update_running`` |
| ``conv4.py`` | the Conv-4 embedding of Matching Networks |
| ``recurrent.py`` | LSTM cell (one fused gate product), sequence LSTM, bidirectional LSTM |
| ``spatial_transformer.py`` | scale-and-shift bilinear glimpses and rendering (AIR's z_where) |

Every layer takes float64 (the default) or float32 and keeps the dtype; the hot pieces are
``autograd.extend.primitive``\ s with hand-written VJPs checked against finite differences.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> params = mlp_init([3, 8, 2], rng)
>>> mlp_apply(params, np.ones((5, 3))).shape
(5, 2)
"""

from .normalization import batch_norm, batch_stats, update_running
from .conv import conv2d, conv_output_size
from .conv4 import conv4_apply, conv4_init, conv4_stats
from .dense import (
    dense_apply,
    dense_init,
    glorot_normal,
    he_normal,
    log_softmax,
    mlp_apply,
    mlp_init,
    relu,
    softmax,
    train,
)
from .pooling import max_pool2d, upsample2d
from .recurrent import bilstm, lstm, lstm_cell, lstm_init
from .spatial_transformer import st_glimpse, st_render

__all__ = [
    "glorot_normal", "he_normal", "dense_init", "dense_apply", "mlp_init", "mlp_apply",
    "relu", "softmax", "log_softmax", "train",
    "conv2d", "conv_output_size", "max_pool2d", "upsample2d", "batch_norm", "batch_stats",
    "update_running",
    "conv4_init", "conv4_apply", "conv4_stats",
    "lstm_init", "lstm_cell", "lstm", "bilstm", "st_glimpse", "st_render",
]
