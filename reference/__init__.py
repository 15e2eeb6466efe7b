r"""Reference implementations of five deep-learning papers from 2016-2017.

One package per paper, its files following the paper's sections, so that each reads against
one section of the PDF; the package's `__init__.py` maps equations and sections to functions
and re-exports the public names (`from reference.mixture_gradients import mixture_sample`):

- `reference.mixture_gradients`: Graves (2016), stochastic backpropagation through mixture
  density distributions.
- `reference.air`: Eslami et al. (2016), Attend, Infer, Repeat.
- `reference.matching_networks`: Vinyals et al. (2016), Matching Networks for one-shot learning.
- `reference.neural_statistician`: Edwards & Storkey (2016), Towards a Neural Statistician.
- `reference.controllable_features`: Bengio, Thomas et al. (2017), Independently Controllable
  Features.

Shared layers live in `reference.nn`, the finite-difference and test helpers in
`reference.testing`, data sets in `reference.datasets`; `python -m reference.reproduce <paper>`
runs a paper's experiments and writes the results files that the documentation site renders.
"""

__version__ = "0.1.0"

#: The paper packages, in the order of the documentation site. The equation-pairing test walks
#: these; a package listed here that does not exist yet is skipped.
PAPER_MODULES = (
    "mixture_gradients",
    "air",
    "matching_networks",
    "neural_statistician",
    "controllable_features",
)
