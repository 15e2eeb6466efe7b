r"""
Eq. 6 beyond Gaussians
======================

Reader question: Eq. 6 needs only a differentiable density whose CDF is tractable. Does it hold
for other families? We take two with closed-form quantiles, so that finite differences of the
quantile give an independent answer:

* Kumaraswamy$(a, b)$ on $(0, 1)$: $F(x) = 1 - (1 - x^a)^b$;
* Weibull$(\lambda, k)$ on $(0, \infty)$: $F(x) = 1 - \exp(-(x/\lambda)^k)$.

`implicit_gradient_1d` receives only the CDF and the density (written with `autograd.numpy`);
it never sees the quantile function.
"""

# %%
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np

from reference.mixture_gradients import implicit_gradient_1d

families = {
    "Kumaraswamy": dict(
        theta=np.array([2.0, 3.5]), names=("a", "b"),
        cdf=lambda x, t: 1.0 - (1.0 - x ** t[0]) ** t[1],
        pdf=lambda x, t: t[0] * t[1] * x ** (t[0] - 1) * (1.0 - x ** t[0]) ** (t[1] - 1),
        quantile=lambda u, t: (1.0 - (1.0 - u) ** (1.0 / t[1])) ** (1.0 / t[0])),
    "Weibull": dict(
        theta=np.array([1.5, 0.8]), names=("lambda", "k"),
        cdf=lambda x, t: 1.0 - anp.exp(-(x / t[0]) ** t[1]),
        pdf=lambda x, t: t[1] / t[0] * (x / t[0]) ** (t[1] - 1) * anp.exp(-(x / t[0]) ** t[1]),
        quantile=lambda u, t: t[0] * (-np.log1p(-u)) ** (1.0 / t[1])),
}

us = np.linspace(0.01, 0.99, 60)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, fam) in zip(axes, families.items()):
    theta, worst = fam["theta"], 0.0
    rows = []
    for u in us:
        x_hat = fam["quantile"](u, theta)
        g = implicit_gradient_1d(fam["cdf"], fam["pdf"], x_hat, theta)
        h = 1e-6
        fd = np.array([(fam["quantile"](u, theta + h * e) - fam["quantile"](u, theta - h * e))
                       / (2 * h) for e in np.eye(2)])
        worst = max(worst, np.max(np.abs(g - fd) / np.maximum(np.abs(fd), 1e-12)))
        rows.append((x_hat, g, fd))
    x_hats = np.array([r[0] for r in rows])
    for i, pname in enumerate(fam["names"]):
        ax.plot(x_hats, [r[1][i] for r in rows], "-", label=f"Eq. 6, d x / d {pname}")
        ax.plot(x_hats, [r[2][i] for r in rows], "k.", ms=3)
    ax.set_title(f"{name}{tuple(theta)}: max relative error {worst:.1e}")
    ax.set_xlabel(r"sample $\hat x$")
    ax.legend(fontsize=8)
    print(f"{name}: largest relative difference from finite differences {worst:.1e}")
    assert worst < 1e-6
axes[0].set_ylabel("gradient (lines: Eq. 6; dots: finite differences)")
plt.tight_layout()
plt.show()

# %%
# Eq. 6 is a statement about the quantile transform of any continuous 1-D distribution, and
# the mixture gradients of this module are one instance of it.
