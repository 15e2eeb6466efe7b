r"""Reference implementations of five deep-learning papers from 2016-2017.

One module per paper, each reading top to bottom like its paper:

- :mod:`reference.mixture_gradients`: Graves (2016), stochastic backpropagation through
  mixture density distributions.
- :mod:`reference.air`: Eslami et al. (2016), Attend, Infer, Repeat.
- :mod:`reference.matching_networks`: Vinyals et al. (2016), Matching Networks.
- :mod:`reference.neural_statistician`: Edwards & Storkey (2016), Towards a Neural Statistician.
- :mod:`reference.controllable_features`: Bengio, Thomas et al. (2017), Independently
  Controllable Features.

Shared building blocks live in :mod:`reference.nn`; data sets in :mod:`reference.datasets`;
``python -m reference.reproduce <paper>`` regenerates every number on the documentation site.
"""

__version__ = "0.1.0"

#: The paper modules, in the order of the documentation site. The equation-pairing test walks
#: these; a module listed here that does not exist yet is skipped.
PAPER_MODULES = (
    "mixture_gradients",
    "air",
    "matching_networks",
    "neural_statistician",
    "controllable_features",
)
