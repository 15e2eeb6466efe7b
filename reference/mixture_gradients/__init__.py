r"""Stochastic backpropagation through Gaussian mixture samples (Graves, 2016).

Reference implementation of A. Graves, *Stochastic Backpropagation through Mixture Density
Distributions*, 2016, [arXiv:1607.05690](https://arxiv.org/abs/1607.05690). The files follow the
paper; every name below is re-exported here (``from reference.mixture_gradients import ...``).

| paper | file | functions |
| --- | --- | --- |
| Eq. (1) | ``density.py`` | ``mixture_log_pdf``, ``conditional_log_weights``, |
| | | ``mixture_cdf_1d`` |
| Eqs. (2)-(4) | ``sampling.py`` | ``mixture_quantile``, ``mixture_sample`` |
| Eq. (6), closed forms | ``implicit_1d.py`` | ``implicit_gradient_1d``, ``dx_dmu_1d``, |
| | | ``dx_dsigma_1d``, ``dx_dlogits_1d`` |
| Eq. (6), chain rule | ``chain_rule.py`` | ``ancestral_jacobian``, ``mixture_vjp`` |
| full covariances | ``full_covariance.py`` | ``mixture_log_pdf_full``, ``mixture_vjp_full``, |
| | | ``mixture_quantile_full``, ``mixture_sample_full`` |
| Eqs. (9)-(10) | ``rejection.py`` | ``rejection_gradient`` |
| variational inference | ``variational.py`` | ``TARGET``, ``target_log_pdf``, ``elbo``, |
| | | ``fit_vi`` |

In the paper's order: the density as a product of 1-D conditionals (Eq. 1), the quantile
transform and ancestral sampling (Eqs. 2-4), the implicit gradient of one sample (Eq. 6) with its
closed forms for a 1-D Gaussian mixture, the chain rule through ancestral sampling in $D$
dimensions, full covariances (which the paper mentions but does not derive), the rejection
estimator (Eqs. 9-10) and variational inference with a mixture posterior.
Input checks live in the private ``_checks.py``.

Conventions. ``N`` samples, ``D`` dimensions, ``K`` components. ``logits`` ``(K,)`` are
unconstrained mixing parameters with $\pi = \mathrm{softmax}(\text{logits})$; ``mu`` and
``sigma`` are ``(K, D)``, Cholesky factors ``L`` are ``(K, D, D)``. Everything is float64 and
computed in log space where densities underflow, so samples 40 standard deviations from every
component and scales from ``1e-3`` to ``1e3`` stay finite.
"""

from .chain_rule import ancestral_jacobian, mixture_vjp
from .density import conditional_log_weights, mixture_cdf_1d, mixture_log_pdf
from .full_covariance import (
    mixture_log_pdf_full,
    mixture_quantile_full,
    mixture_sample_full,
    mixture_vjp_full,
)
from .implicit_1d import dx_dlogits_1d, dx_dmu_1d, dx_dsigma_1d, implicit_gradient_1d
from .rejection import rejection_gradient
from .sampling import mixture_quantile, mixture_sample
from .variational import TARGET, elbo, fit_vi, target_log_pdf

__all__ = [
    # density.py, Eq. (1)
    "mixture_log_pdf", "conditional_log_weights", "mixture_cdf_1d",
    # sampling.py, Eqs. (2)-(4)
    "mixture_quantile", "mixture_sample",
    # implicit_1d.py, Eq. (6)
    "implicit_gradient_1d", "dx_dmu_1d", "dx_dsigma_1d", "dx_dlogits_1d",
    # chain_rule.py
    "ancestral_jacobian", "mixture_vjp",
    # full_covariance.py
    "mixture_log_pdf_full", "mixture_vjp_full", "mixture_quantile_full", "mixture_sample_full",
    # rejection.py, Eqs. (9)-(10)
    "rejection_gradient",
    # variational.py
    "TARGET", "target_log_pdf", "elbo", "fit_vi",
]
