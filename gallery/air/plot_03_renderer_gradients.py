r"""
Finite differences through a renderer
=====================================

With a graphics renderer as the decoder there is no gradient to backpropagate: the paper uses
finite differences, two renders per latent. Our renderer draws a sphere, a cube or a cylinder on
a ground plane (pose: ground position and yaw; Lambertian shading; occlusion) with a hard 0/1
coverage per pixel. Its smooth twin replaces the coverage by a sigmoid of the ray's closest
approach, so ``autograd`` gives its exact gradient. We compare, as the step size varies, the
finite-difference gradient of a squared image error through the twin and through the hard
renderer with the twin's exact gradient. One pixel at the objects is about 0.13 ground units.
"""

# %%
# Two scenes from the renderer, and the target the gradient is taken against.
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np
from autograd import grad

from reference.air import renderer

fig, ax = plt.subplots(1, 3, figsize=(7, 2.5))
ax[0].imshow(renderer.render([1, 0, 2], np.array([[-0.7, 0.4, 0.3], [0.3, -0.5, 0.0],
                                                   [0.6, 0.8, 0.0]]), 32), cmap="gray")
ax[0].set_title("three objects")
target_pose = np.array([[0.0, 0.0, 0.3]])
pose = np.array([[0.3, 0.2, 0.5]])
target = renderer.render([1], target_pose, 24)
ax[1].imshow(target, cmap="gray", vmin=0, vmax=1)
ax[1].set_title("target (hard)")
ax[2].imshow(renderer.render_smooth([1], pose, 24), cmap="gray", vmin=0, vmax=1)
ax[2].set_title("current pose (smooth twin)")
for a in ax:
    a.set(xticks=[], yticks=[])
fig.tight_layout()

# %%
# Relative error of each finite-difference gradient against the twin's exact gradient, median
# over 8 random cubes, each against its own target. With tiny steps the twin's finite
# differences are exact and the hard renderer's see no pixel flip (only shading changes); with
# large steps both measure a blurred slope. The image error itself is bumpy at the scale of a
# pixel, so even the best step only approximates the twin's local gradient.
rng = np.random.default_rng(0)
cases = []
for _ in range(8):
    tp = rng.uniform([-0.6, -0.4, -0.5], [0.6, 0.6, 0.5], size=(1, 3))
    cases.append((renderer.render([1], tp, 24), tp + rng.normal(0, [0.3, 0.3, 0.2], size=(1, 3))))

steps = np.logspace(-5, -0.5, 10)
err = {"smooth twin": np.zeros((len(cases), len(steps))),
       "hard renderer": np.zeros((len(cases), len(steps)))}
for c, (tgt, P) in enumerate(cases):
    def loss_smooth(Q, tgt=tgt):
        return anp.sum((renderer.render_smooth([1], Q, 24) - tgt) ** 2)

    def loss_hard(Q, tgt=tgt):
        return float(np.sum((renderer.render([1], Q, 24) - tgt) ** 2))

    exact = grad(loss_smooth)(P)
    for j, h in enumerate(steps):
        for name, f in (("smooth twin", loss_smooth), ("hard renderer", loss_hard)):
            g = renderer.finite_difference_grad(f, P, h)
            err[name][c, j] = np.linalg.norm(g - exact) / np.linalg.norm(exact)
fig, ax = plt.subplots(figsize=(5.5, 3.4))
for name, e in err.items():
    ax.loglog(steps, np.median(e, axis=0), "o-", label=name)
ax.axvline(0.065, color="grey", ls=":", label="about half a pixel")
ax.set(xlabel="finite-difference step (ground units; radians for yaw)",
       ylabel="median relative error vs exact")
ax.legend()
fig.tight_layout()
for name, e in err.items():
    best = np.argmin(np.median(e, axis=0))
    print(f"{name}: smallest median error {np.median(e, axis=0)[best]:.3g} at step "
          f"{steps[best]:.3g}; at step 1e-5: {np.median(e[:, 0]):.3g}")
