r"""
Consistency with the reparameterisation trick
=============================================

Reader question: for a single Gaussian, does Graves' implicit gradient give the same gradients
for the mean and the standard deviation as the reparameterisation trick? And what does it give
for a mixture?

**Analytically.** For one Gaussian, $F(x; \mu, \sigma) = \Phi((x - \mu)/\sigma)$ and
$f(x) = \phi(z)/\sigma$ with $z = (x - \mu)/\sigma$. Eq. 6 gives

$$
\frac{\partial \hat x}{\partial \mu} = -\frac{-\phi(z)/\sigma}{\phi(z)/\sigma} = 1, \qquad
\frac{\partial \hat x}{\partial \sigma} = -\frac{-\phi(z)\, z/\sigma}{\phi(z)/\sigma} = z,
$$

which are the reparameterisation trick's $\partial(\mu + \sigma\epsilon)/\partial\mu = 1$ and
$\partial(\mu + \sigma\epsilon)/\partial\sigma = \epsilon$, since $z = \epsilon$ at the sample.
For a 1-D mixture the same computation gives $r_k(\hat x)$ and $r_k(\hat x) z_k$: each
component's reparameterisation gradient, weighted by its responsibility for the sample.
"""

# %%
# Numerically, for one Gaussian: the gradient autograd computes through `mixture_sample` against
# the reparameterisation trick applied by hand, on the same draws.
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np
from autograd import grad

from reference.mixture_gradients import ancestral_jacobian, mixture_sample

mu, sigma = np.array([[0.7]]), np.array([[1.8]])
x = mixture_sample(np.random.default_rng(0), np.zeros(1), mu, sigma, 5000)
eps = (x - mu) / sigma                                   # the noise that produced each sample
c = np.random.default_rng(1).normal(size=x.shape)        # a random downstream loss: sum(c * x)
g_mu = grad(lambda m: anp.sum(c * mixture_sample(np.random.default_rng(0), np.zeros(1), m,
                                                 sigma, 5000)))(mu)
g_sigma = grad(lambda s: anp.sum(c * mixture_sample(np.random.default_rng(0), np.zeros(1), mu,
                                                    s, 5000)))(sigma)
print(f"d/dmu:    implicit {g_mu[0, 0]: .12f}   reparameterisation {np.sum(c):.12f}")
print(f"d/dsigma: implicit {g_sigma[0, 0]: .12f}   reparameterisation {np.sum(c * eps):.12f}")

# %%
# For a mixture
# -------------
# Per sample, the Jacobian $\partial \hat x / \partial \mu_k$ is the responsibility $r_k(\hat x)$,
# and $\partial \hat x / \partial \sigma_k = r_k(\hat x)\,(\hat x - \mu_k)/\sigma_k$. We draw a 1-D
# mixture of three components and plot both against $\hat x$: each mean gradient is the
# posterior probability that the sample came from that component, and they sum to one (moving
# every mean by $t$ moves every sample by $t$).
logits = np.array([0.0, 0.5, -0.5])
mu3 = np.array([[-3.0], [0.0], [4.0]])
sigma3 = np.array([[1.0], [0.6], [1.5]])
xs = np.sort(mixture_sample(np.random.default_rng(2), logits, mu3, sigma3, 400), axis=0)
J = ancestral_jacobian(xs, logits, mu3, sigma3)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for k in range(3):
    axes[0].plot(xs[:, 0], J["mu"][:, 0, k, 0], label=f"component {k}")
    axes[1].plot(xs[:, 0], J["sigma"][:, 0, k, 0], label=f"component {k}")
    # the per-component reparameterisation gradient z_k, weighted by the responsibility r_k
    z_k = (xs[:, 0] - mu3[k, 0]) / sigma3[k, 0]
    assert np.allclose(J["sigma"][:, 0, k, 0], J["mu"][:, 0, k, 0] * z_k)
axes[0].plot(xs[:, 0], J["mu"][:, 0, :, 0].sum(axis=1), "k--", label="sum")
axes[0].set_title(r"$\partial \hat x / \partial \mu_k = r_k(\hat x)$")
axes[1].set_title(r"$\partial \hat x / \partial \sigma_k = r_k(\hat x)\, z_k$")
for ax in axes:
    ax.set_xlabel(r"sample $\hat x$")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
print("largest deviation of sum_k dx/dmu_k from 1:",
      np.abs(J["mu"][:, 0, :, 0].sum(axis=1) - 1).max())

# %%
# So for the means and scales the method *is* the reparameterisation trick, applied to each
# component in proportion to its responsibility; what is new is the gradient for the weights.
