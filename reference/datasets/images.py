r"""Grayscale PNG decoding and area resizing, for the Omniglot loaders.

`decode_png` reads one grayscale PNG with Pillow into intensities in $[0, 1]$; `resize_area`
shrinks images by area averaging, which keeps their mean intensity. The loaders of
`reference.datasets.omniglot` use the private `_decode_to_ink`, which does both for many PNGs at
once and inverts the result so that ink is 1.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image

__all__ = ["decode_png", "resize_area"]

# ----------------------------------------------------------------------------------------------
# PNG decoding
# ----------------------------------------------------------------------------------------------

#: Pillow mode of a grayscale PNG -> its largest sample value. Pillow opens 1-bit PNGs as "1"
#: (bool), 2-, 4- and 8-bit ones as "L" (2- and 4-bit samples scaled to 0-255, so s / 255 is
#: the sample's fraction of its own maximum), 16-bit ones as "I;16" ("I" in older versions).
_GRAY_TOP = {"1": 1, "L": 255, "I;16": 65535, "I;16B": 65535, "I": 65535}


def _png_samples(data: bytes, what: str = "the data") -> tuple[np.ndarray, int]:
    """Integer gray samples ``(H, W)`` of a grayscale PNG, and their largest possible value."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
            img.load()
            mode, samples = img.mode, np.asarray(img)
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as err:
        # Pillow: UnidentifiedImageError (an OSError) for a non-PNG, OSError for truncated
        # data, SyntaxError for a broken chunk or CRC
        raise ValueError(f"{what} is not a readable PNG file ({type(err).__name__}: {err}); it "
                         f"is not a PNG, or truncated or corrupt") from err
    if mode not in _GRAY_TOP:
        raise ValueError(f"{what}: only grayscale PNGs (bit depth 1, 2, 4, 8 or 16) are "
                         f"supported, got Pillow mode {mode!r}")
    return samples, _GRAY_TOP[mode]


def decode_png(data: bytes) -> np.ndarray:
    r"""Decode a grayscale PNG to intensities in $[0, 1]$ (0 = black, 1 = white), with Pillow.

    Any grayscale PNG Pillow reads (bit depth 1, 2, 4, 8 or 16, interlaced or not). A sample
    $s$ at bit depth $b$ maps to

    $$ v = \frac{s}{2^b - 1}. $$

    Parameters
    ----------
    data : bytes
        The whole PNG file.

    Returns
    -------
    numpy.ndarray of float64, shape (H, W)
        Intensities; Omniglot's strokes are 0 and its paper 1.

    Raises
    ------
    ValueError
        Not a PNG, a truncated or corrupt file, or a colour PNG.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.array([[0, 255]], dtype=np.uint8)).save(buf, format="PNG")
    >>> decode_png(buf.getvalue())
    array([[0., 1.]])
    """
    samples, top = _png_samples(data)
    return samples.astype(np.float64) / top


# ----------------------------------------------------------------------------------------------
# Resizing
# ----------------------------------------------------------------------------------------------

def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights: the overlap of output cell i with input pixel j over its width."""
    scale = n_in / n_out
    lo = np.arange(n_out)[:, None] * scale
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + scale, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / scale


def resize_area(images: np.ndarray, size: int) -> np.ndarray:
    r"""Resize images to ``size x size`` by area averaging (an antialiased box filter).

    Output pixel $(i, k)$ covers the square $[i s_h, (i+1) s_h) \times [k s_w, (k+1) s_w)$ of
    the input, $s_h = H / \mathrm{size}$, $s_w = W / \mathrm{size}$, and takes the mean of the
    input over it, each input pixel weighted by its overlap:

    $$ y_{ik} = \sum_{j,l} A^{(h)}_{ij}\, x_{jl}\, A^{(w)}_{kl}, \qquad
       A_{ij} = \frac{|[i s, (i+1) s) \cap [j, j+1)|}{s}. $$

    Each row of $A$ sums to 1 (a constant image stays constant) and each column to $1/s$, so the
    mean intensity of the image is preserved exactly.

    Parameters
    ----------
    images : array_like, shape (..., H, W)
        Images, any leading batch shape.
    size : int
        Output height and width (positive; upsampling also works, as nearest-cell sampling).

    Returns
    -------
    numpy.ndarray of float64, shape (..., size, size)
        The resized images, with the same leading batch shape and the same mean intensity.

    Notes
    -----
    Pillow's ``BOX`` resampling is this average only when ``H / size`` is an integer: it counts
    each input pixel in full or not at all, by where the pixel's centre falls, and works in
    float32. At 105 -> 28 (a factor of 3.75) the partly covered pixels matter, so the weights
    $A$ are built here.

    Examples
    --------
    >>> x = np.zeros((4, 4)); x[:2, :2] = 1.0
    >>> resize_area(x, 2)
    array([[1., 0.],
           [0., 0.]])
    >>> x = np.eye(105)
    >>> bool(np.isclose(resize_area(x, 28).mean(), x.mean()))
    True
    """
    size = _check_size(size)
    images = np.asarray(images, dtype=np.float64)
    if images.ndim < 2 or min(images.shape[-2:]) < 1:
        raise ValueError(f"images must have shape (..., H, W) with H, W >= 1, got {images.shape}")
    a_h = _area_matrix(images.shape[-2], size)
    a_w = _area_matrix(images.shape[-1], size)
    return a_h @ images @ a_w.T


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer (e.g. 28, or 105 for the original "
                         f"resolution), got {size!r}")
    return int(size)


def _decode_to_ink(archive, names: list[str], size: int, chunk: int = 512) -> np.ndarray:
    """Decode PNGs ``names`` to ink-on-zero float64 ``(len(names), size, size)``.

    ``archive`` is anything with ``read(name) -> bytes`` and a ``path`` for the messages (the
    loaders' zip-or-folder reader).
    """
    out = np.empty((len(names), size, size), dtype=np.float64)
    matrices = {}
    for start in range(0, len(names), chunk):
        batch, tops = [], []
        for name in names[start:start + chunk]:
            samples, top = _png_samples(archive.read(name), what=f"{archive.path}: {name}")
            if batch and samples.shape != batch[0].shape:
                raise ValueError(f"{archive.path}: {name} is {samples.shape[1]}x"
                                 f"{samples.shape[0]}, unlike the other images "
                                 f"({batch[0].shape[1]}x{batch[0].shape[0]})")
            batch.append(samples)
            tops.append(top)
        samples = np.stack(batch).astype(np.float64)  # (n, h, w) integer samples
        top = np.array(tops, dtype=np.float64)[:, None, None]  # (n, 1, 1): 1 for 1-bit PNGs
        n, h, w = samples.shape
        if (h, w) not in matrices:
            matrices[h, w] = (_area_matrix(h, size), _area_matrix(w, size).T)
        a_h, a_wt = matrices[h, w]
        if h == w == size:  # original resolution: the area weights are the identity
            white = samples / top
        else:  # two plain matrix products (much faster than a batched one): columns, then rows
            cols = (samples.reshape(n * h, w) @ a_wt).reshape(n, h, size)
            rows = a_h @ cols.transpose(1, 0, 2).reshape(h, n * size)
            white = rows.reshape(size, n, size).transpose(1, 0, 2) / top
        # Resizing keeps constants (rows of A sum to 1), so inverting after it is exact.
        out[start:start + n] = 1.0 - white
    return out
