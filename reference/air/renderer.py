r"""A tiny 3-D renderer for the AIR scenes with a graphics-engine decoder (Section 3.2).

Objects (sphere, cube, cylinder, all of unit size) stand on a ground plane; each has a pose
$(p_x, p_z, \theta)$: position on the ground and yaw about the vertical axis. A fixed pinhole
camera looks down at the scene; one directional light gives Lambertian shading with an ambient
floor. Rays are sphere-traced through the signed distance field of the union of the objects, so
the nearest surface wins (occlusion); rays that reach the ground first show the ground.

Two versions share this code:

- [`render`][reference.air.renderer.render] is the **non-differentiable** renderer of the
  experiment: a pixel shows an object exactly when its ray hits one (a hard 0/1 coverage).
  It is plain NumPy and is only ever called, never differentiated.
- [`render_smooth`][reference.air.renderer.render_smooth] is its **smooth twin**: the coverage is
  a sigmoid of the ray's closest approach to a surface, so images change smoothly with the pose
  and ``autograd`` gives the exact gradient. It exists to check finite differences.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

__all__ = ["SHAPES", "camera_rays", "scene_sdf", "render", "render_smooth",
           "finite_difference_grad"]

#: Object identities, in the order of the identity index.
SHAPES = ("sphere", "cube", "cylinder")
_EYE = np.array([0.0, 4.0, -5.0])
_TARGET = np.array([0.0, 0.3, 0.0])
_LIGHT = np.array([-0.5, 1.0, -0.6]) / np.linalg.norm([-0.5, 1.0, -0.6])
_AMBIENT, _ALBEDO_OBJ, _ALBEDO_GROUND = 0.25, 0.9, 0.35
_N_MARCH = 32


def camera_rays(size: int = 24, fov_deg: float = 28.0):
    r"""Unit ray directions of a pinhole camera, one per pixel (Section 3.2).

    Returns the eye position (3,) and directions (size * size, 3), row-major from the top-left.
    """
    fwd = _TARGET - _EYE
    fwd = fwd / np.linalg.norm(fwd)
    right = np.cross(np.array([0.0, 1.0, 0.0]), fwd)
    right = right / np.linalg.norm(right)
    up = np.cross(fwd, right)
    t = np.tan(np.deg2rad(fov_deg) / 2)
    c = ((2 * np.arange(size) + 1) / size - 1) * t
    u, v = np.meshgrid(c, -c)                                  # v decreases downwards
    d = fwd[None] + u.reshape(-1, 1) * right[None] + v.reshape(-1, 1) * up[None]
    return _EYE.copy(), d / np.linalg.norm(d, axis=1, keepdims=True)


def _sdf_one(p, shape, pose, xp):
    """Signed distance of points p (..., 3) to one unit object standing at pose (px, pz, yaw)."""
    px, pz, yaw = pose[0], pose[1], pose[2]
    qx, qy, qz = p[..., 0] - px, p[..., 1] - 0.5, p[..., 2] - pz
    c, s = xp.cos(yaw), xp.sin(yaw)
    lx, lz = c * qx + s * qz, -s * qx + c * qz                  # object frame (rotate by -yaw)
    if shape == 0:                                              # sphere, radius 0.5
        return xp.sqrt(lx ** 2 + qy ** 2 + lz ** 2 + 1e-12) - 0.5
    if shape == 1:                                              # cube, half-side 0.4
        dx, dy, dz = xp.abs(lx) - 0.4, xp.abs(qy) - 0.4, xp.abs(lz) - 0.4
        outside = xp.sqrt(xp.maximum(dx, 0) ** 2 + xp.maximum(dy, 0) ** 2
                          + xp.maximum(dz, 0) ** 2 + 1e-12)
        return outside + xp.minimum(xp.maximum(dx, xp.maximum(dy, dz)), 0.0)
    # cylinder: vertical, radius 0.4, half-height 0.5
    dr = xp.sqrt(lx ** 2 + lz ** 2 + 1e-12) - 0.4
    dh = xp.abs(qy) - 0.5
    outside = xp.sqrt(xp.maximum(dr, 0) ** 2 + xp.maximum(dh, 0) ** 2 + 1e-12)
    return outside + xp.minimum(xp.maximum(dr, dh), 0.0)


def scene_sdf(p, shapes, poses, xp=np):
    r"""Signed distance to the union of the objects: the minimum over objects (Section 3.2).

    $$
    d(p) = \min_k d_{\text{shape}_k}\big(R(-\theta_k)(p - c_k)\big)
    $$

    ``p`` (..., 3); ``shapes`` sequence of identity indices; ``poses`` (K, 3).
    """
    d = None
    for k, shape in enumerate(shapes):
        dk = _sdf_one(p, int(shape), poses[k], xp)
        d = dk if d is None else xp.minimum(d, dk)
    return d


def _check_scene(shapes, poses):
    poses = np.asarray(poses, dtype=float) if isinstance(poses, (list, tuple)) else poses
    if np.ndim(poses) != 2 or np.shape(poses)[1] != 3 or len(shapes) != np.shape(poses)[0]:
        raise ValueError("poses must have shape (K, 3) = (p_x, p_z, yaw) with one row per shape")
    if len(shapes) == 0:
        raise ValueError("a scene needs at least one object")
    if any(int(s) not in (0, 1, 2) for s in shapes):
        raise ValueError(f"shapes must be indices into {SHAPES}, got {list(shapes)}")
    return poses


def _trace(shapes, poses, size, xp):
    """Sphere tracing, clipped at the ground; returns hit points, closest approach, ground mask."""
    eye, d = camera_rays(size)
    t_ground = -eye[1] / d[:, 1]                               # rays all point down
    t = np.zeros(len(d))
    closest = None
    for _ in range(_N_MARCH):
        p = eye[None] + t[:, None] * d if xp is np else eye[None] + anp.expand_dims(t, 1) * d
        dist = scene_sdf(p, shapes, poses, xp)
        closest = dist if closest is None else xp.minimum(closest, dist)
        t = xp.minimum(t + dist, t_ground)
    p = eye[None] + (t[:, None] if xp is np else anp.expand_dims(t, 1)) * d
    return p, closest, t_ground


def _shade(p, shapes, poses, xp):
    """Lambertian shading of surface points from the SDF's numerical normal."""
    h = 1e-3
    grads = []
    for axis in range(3):
        e = np.zeros(3)
        e[axis] = h
        grads.append(scene_sdf(p + e, shapes, poses, xp) - scene_sdf(p - e, shapes, poses, xp))
    gx, gy, gz = grads
    norm = xp.sqrt(gx ** 2 + gy ** 2 + gz ** 2 + 1e-12)
    cos = (gx * _LIGHT[0] + gy * _LIGHT[1] + gz * _LIGHT[2]) / norm
    return _ALBEDO_OBJ * (_AMBIENT + (1 - _AMBIENT) * xp.maximum(cos, 0.0))


def _ground_shade():
    return _ALBEDO_GROUND * (_AMBIENT + (1 - _AMBIENT) * _LIGHT[1])


def render(shapes, poses, size: int = 24) -> np.ndarray:
    r"""The non-differentiable renderer: hard coverage, Lambertian shading (Section 3.2).

    $$
    I(\text{pixel}) = \begin{cases} \alpha_{\text{obj}}\big(a + (1-a)\max(0, n \cdot l)\big)
    & \text{ray hits an object first} \\
    \alpha_{\text{ground}}\big(a + (1-a)\, l_y\big) & \text{otherwise} \end{cases}
    $$

    Parameters
    ----------
    shapes : sequence of int
        Identity index of each object (into ``SHAPES``).
    poses : ndarray, shape (K, 3)
        $(p_x, p_z, \theta)$ of each object (ground position, yaw in radians).
    size : int
        Image side in pixels (24-32).

    Returns
    -------
    ndarray
        Shape (size, size), intensities in [0, 1]; the same inputs always give the same image.
    """
    poses = _check_scene(shapes, poses)
    p, _, _ = _trace(shapes, poses, size, np)
    hit = scene_sdf(p, shapes, poses, np) < 1e-2
    img = np.where(hit, _shade(p, shapes, poses, np), _ground_shade())
    return img.reshape(size, size)


def render_smooth(shapes, poses, size: int = 24, tau: float = 0.05):
    r"""Smooth, differentiable twin of [`render`][reference.air.renderer.render] (Section 3.2).

    The hard hit test is replaced by a soft coverage of the ray's closest approach $d_{\min}$ to
    any surface (0 for a ray that hits), which decays smoothly outside the silhouette:

    $$
    c = \exp(-d_{\min}/\tau), \qquad
    I = c\, I_{\text{obj}} + (1 - c)\, I_{\text{ground}} .
    $$

    ``tau`` (ground units) sets the width of the soft edge; a pixel at the objects is about 0.13.

    Written in ``autograd.numpy``: ``autograd.grad`` gives its exact gradient in ``poses``.
    """
    _check_scene(shapes, poses)
    p, closest, _ = _trace(shapes, poses, size, anp)
    cover = anp.exp(-anp.maximum(closest, 0.0) / tau)
    img = cover * _shade(p, shapes, poses, anp) + (1.0 - cover) * _ground_shade()
    return anp.reshape(img, (size, size))


def finite_difference_grad(f, poses, step):
    r"""Central finite-difference gradient of a scalar function of the poses (Section 3.2).

    $$
    \frac{\partial f}{\partial \theta_j} \approx
    \frac{f(\theta + h e_j) - f(\theta - h e_j)}{2h}
    $$

    Two calls of ``f`` (two renders) per latent. ``step`` is a scalar or one step per pose
    column (position steps in ground units, yaw steps in radians).
    """
    poses = np.asarray(poses, dtype=float)
    step = np.broadcast_to(np.asarray(step, dtype=float), (poses.shape[1],))
    if np.any(step <= 0):
        raise ValueError("finite-difference steps must be positive")
    g = np.zeros_like(poses)
    for idx in np.ndindex(poses.shape):
        e = np.zeros_like(poses)
        e[idx] = step[idx[1]]
        g[idx] = (f(poses + e) - f(poses - e)) / (2 * step[idx[1]])
    return g
