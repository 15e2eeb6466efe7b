r"""Independently Controllable Features (Bengio, Thomas, Pineau, Precup & Bengio, 2017).

arXiv:1703.07718. An autoencoder (encoder $f$, decoder $g$) is trained together with one policy
$\pi_k(a \mid s)$ per feature $f_k$; a *selectivity* reward pays policy $k$ for changing feature
$k$ while leaving the others alone, so that each feature comes to measure something the agent
can change on its own. On a grid world the hope is that the features become the agent's $x$ and
$y$ coordinates.

The files follow the paper; equation numbers are our reading of arXiv v1.

=========================================  =============================================
Paper                                      Function (file)
=========================================  =============================================
Section 3: the grid world, $s$ and         ``render``, ``step``, ``step_all_actions``,
$P(s' \mid s, a)$                          ``all_positions``, ``sample_positions``,
                                           ``rollout`` (grid_world.py)
Section 2: the model $f$, $g$, $\pi_k$     ``Config``, ``init_params``, ``encode``,
                                           ``decode``, ``policy_log_probs`` (model.py)
Eq. (2), the reconstruction term           ``autoencoder_loss`` (model.py)
Eq. (1): selectivity and its variants      ``selectivity``, ``transition_selectivity``
                                           (objectives.py)
Eq. (2): expected selectivity, objective   ``expected_selectivity``, ``objective``
                                           (objectives.py)
Algorithm 1: REINFORCE, our exact sum      ``sample_actions``, ``sampled_selectivity``,
over the four actions, and the authors'    ``reinforce_surrogate``, ``reinforce_gradient``,
code's uniform one-action form             ``exact_gradient``, ``uniform_surrogate``,
                                           ``uniform_gradient`` (estimators.py)
Algorithm 1: states and training loop      ``StateSampler``, ``train`` (training.py)
Section 3: the measures                    ``feature_grid``, ``alignment``,
                                           ``policy_selectivity``, ``policy_directions``,
                                           ``selectivity_ceiling``, ``evaluate``
                                           (measures.py)
Section 3: the experiment's arms, seeds    ``ARMS``, ``PAPER``, ``AUTHORS``, ``run_seed``,
                                           ``run_arm``, ``summarise``, ``gap``
                                           (experiments.py)
=========================================  =============================================

Which forms of selectivity come from which source, and what our runs found, are on the
documentation page (docs/controllable_features.md), with the numbers read from the results
file of ``python -m reference.reproduce controllable_features``.
"""

from .estimators import (exact_gradient, reinforce_gradient, reinforce_surrogate,
                         sample_actions, sampled_selectivity, uniform_gradient,
                         uniform_surrogate)
from .experiments import (ARMS, AUTHORS, GALLERY_STEPS, PAPER, SHORT_STEPS, gap, run_arm,
                          run_seed, summarise)
from .grid_world import (ACTIONS, AGENT, GRID, MOVES, N_POS, all_positions, render, rollout,
                         sample_positions, step, step_all_actions)
from .measures import (alignment, evaluate, feature_grid, policy_directions, policy_selectivity,
                       selectivity_ceiling)
from .model import Config, autoencoder_loss, decode, encode, init_params, policy_log_probs
from .objectives import (TRANSFORMS, VARIANTS, expected_selectivity, objective, selectivity,
                         transition_selectivity)
from .training import StateSampler, train

__all__ = [
    # grid world (Section 3)
    "GRID", "AGENT", "N_POS", "ACTIONS", "MOVES", "render", "step", "step_all_actions",
    "all_positions", "sample_positions", "rollout",
    # model (Section 2)
    "Config", "init_params", "encode", "decode", "policy_log_probs", "autoencoder_loss",
    # selectivity (Eq. (1)) and the objective (Eq. (2))
    "VARIANTS", "TRANSFORMS", "selectivity", "transition_selectivity", "expected_selectivity",
    "objective",
    # gradient estimators (Algorithm 1)
    "sample_actions", "sampled_selectivity", "reinforce_surrogate", "uniform_surrogate",
    "exact_gradient", "reinforce_gradient", "uniform_gradient",
    # training (Algorithm 1)
    "StateSampler", "train",
    # measures (Section 3)
    "feature_grid", "alignment", "policy_selectivity", "policy_directions",
    "selectivity_ceiling", "evaluate",
    # experiments (Section 3)
    "PAPER", "AUTHORS", "ARMS", "SHORT_STEPS", "GALLERY_STEPS", "run_seed", "run_arm",
    "summarise", "gap",
]
