"""The shared layers AIR uses, all from ``reference.nn`` (one import point for the package)."""

from reference.nn import (dense_apply, dense_init, lstm_cell, lstm_init, mlp_apply, mlp_init, relu,
                          st_glimpse, st_render)

__all__ = ["lstm_cell", "lstm_init", "st_glimpse", "st_render", "dense_apply", "dense_init",
           "mlp_apply", "mlp_init", "relu"]
