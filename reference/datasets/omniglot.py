r"""Omniglot (Lake, Salakhutdinov & Tenenbaum, 2015) and Lake et al.'s 20 one-shot runs.

Omniglot has 1,623 handwritten characters from 50 alphabets, each drawn once by 20 different
people, as 105x105 black-on-white 1-bit PNGs. The official files live in the folder `python/` of
the GitHub repository [brendenlake/omniglot](https://github.com/brendenlake/omniglot):

| file | contents |
| --- | --- |
| `images_background.zip` | 30 alphabets, 964 characters (the training set) |
| `images_evaluation.zip` | 20 alphabets, 659 characters (the test alphabets) |
| `images_background_small1.zip` | 5 alphabets, 136 characters ("minimal" split 1) |
| `images_background_small2.zip` | 5 alphabets, 156 characters ("minimal" split 2) |
| `one-shot-classification/all_runs.zip` | 20 runs of 20-way within-alphabet one-shot tasks |

Inside an image zip the layout is ``images_background/<Alphabet>/characterNN/<id>_<drawer>.png``;
inside ``all_runs.zip`` it is ``runNN/training/classMM.png`` (one image per class),
``runNN/test/itemMM.png`` (20 queries) and ``runNN/class_labels.txt``, the answer key, one line
``runNN/test/itemMM.png runNN/training/classKK.png`` per query.

Where the files are found, in this order:

1. the ``root`` argument: a folder holding the zips or their unpacked folders, or one zip file;
   when it is given nothing else is searched (a download, if allowed, goes into it);
2. the folder named by the environment variable ``OMNIGLOT_DIR``;
3. the user cache, `cache_dir` (on Linux ``$XDG_CACHE_HOME/paper-reference-2016/omniglot``,
   by default ``~/.cache/paper-reference-2016/omniglot``);
4. a download of the official file into the user cache by
   [pooch](https://www.fatiando.org/pooch/), checked against its SHA-256: pooch writes to a
   temporary file in the same folder and moves it into place only once the digest matches.

A folder may hold the zip (``images_background.zip``) or the unpacked folder
(``images_background/<Alphabet>/...``; for the runs ``all_runs/run01/...`` or ``run01/...``).

Images come back as float64 arrays with **ink = 1** and background = 0 (the PNGs are black
strokes on white, so they are inverted), shrunk from 105x105 by area averaging
(`resize_area`). PNGs are decoded by Pillow (`decode_png`).

Examples
--------
>>> from reference.datasets.omniglot import load_omniglot, load_lake_runs
>>> data = load_omniglot("background_small1")            # doctest: +SKIP
>>> data["images"].shape, data["alphabets"][0]           # doctest: +SKIP
((136, 20, 28, 28), 'Balinese')
>>> runs = load_lake_runs()                              # doctest: +SKIP
>>> run = runs[0]                                        # doctest: +SKIP
>>> run["train"].shape, run["test"].shape, run["answer"][:3]  # doctest: +SKIP
((20, 28, 28), (20, 28, 28), array([7, 8, 1]))
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pooch
from PIL import Image

__all__ = [
    "SUBSETS", "OFFICIAL_FILES", "cache_dir", "locate", "decode_png", "resize_area",
    "load_omniglot", "load_lake_runs",
]

#: Subset name -> (file stem, number of alphabets, number of characters); 20 drawers each.
SUBSETS = {
    "background": ("images_background", 30, 964),
    "evaluation": ("images_evaluation", 20, 659),
    "background_small1": ("images_background_small1", 5, 136),
    "background_small2": ("images_background_small2", 5, 156),
}

_BASE_URL = "https://github.com/brendenlake/omniglot/raw/master/python/"

#: Official file name -> (URL, size in bytes, SHA-256). The digests of the two small zips and of
#: ``all_runs.zip`` were computed here from the official files; those of the two large zips are
#: the ones recorded for the same URLs by TensorFlow Datasets (``url_checksums/omniglot.txt``),
#: which also agree with ours for the two small zips.
OFFICIAL_FILES = {
    "images_background.zip": (
        _BASE_URL + "images_background.zip", 9464212,
        "ad41ab679c8b5d90b271ef46be6987cc81211774a695c29dcc5367b2b26ee640"),
    "images_evaluation.zip": (
        _BASE_URL + "images_evaluation.zip", 6462886,
        "1f61a8f3366785b057fc117d9228e78a16e3d976c8953b2a10fcc74cf0609cee"),
    "images_background_small1.zip": (
        _BASE_URL + "images_background_small1.zip", 1319022,
        "f38eb80f801274ac2b4dff5b24289016bfaba4a7d5bb50deebf27104ad6cb8a4"),
    "images_background_small2.zip": (
        _BASE_URL + "images_background_small2.zip", 1580917,
        "3ccaa407515a8778e5d0861875af38b17e418f301ad5bb3b5a6b65d901a41c7f"),
    "all_runs.zip": (
        _BASE_URL + "one-shot-classification/all_runs.zip", 352787,
        "437c1eeab0af8484112e1b4cc0f3d541ec727f7c47b9b202da738af9dfd6c325"),
}

_N_DRAWERS = 20
_N_RUNS = 20
_RUN_WAYS = 20
_HOW_TO_FIX = (
    "To fix: pass root=<folder holding the official zips or their unpacked folders>, or set the "
    "environment variable OMNIGLOT_DIR to such a folder, or allow download=True with network "
    "access (official files: https://github.com/brendenlake/omniglot, folder python/).")


# ----------------------------------------------------------------------------------------------
# Finding the files
# ----------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    r"""The user cache folder for Omniglot files.

    Returns
    -------
    pathlib.Path
        ``pooch.os_cache("paper-reference-2016") / "omniglot"``: the platform's user cache
        folder, on Linux ``$XDG_CACHE_HOME/paper-reference-2016/omniglot`` when
        ``XDG_CACHE_HOME`` is set, else ``~/.cache/paper-reference-2016/omniglot``. It is not
        created here; a download creates it.

    Examples
    --------
    >>> cache_dir().parts[-2:]                               # doctest: +SKIP
    ('paper-reference-2016', 'omniglot')
    """
    return Path(pooch.os_cache("paper-reference-2016")) / "omniglot"


def _places(root) -> list[tuple[Path, str]]:
    """Where to look, in order, each with a short note of why it is on the list."""
    if root is not None:
        return [(Path(os.fspath(root)).expanduser(), "root argument")]
    places = []
    env = os.environ.get("OMNIGLOT_DIR")
    if env:
        places.append((Path(env).expanduser(), "$OMNIGLOT_DIR"))
    places.append((cache_dir(), "user cache"))
    return places


def _find_in(place: Path, stem: str) -> Path | None:
    """The zip or unpacked folder for ``stem`` at one place, or None."""
    if place.is_file():
        return place  # an explicit zip file: its layout is checked when it is read
    if not place.is_dir():
        return None
    for candidate in (place / f"{stem}.zip", place / stem):
        if candidate.exists():
            return candidate
    if place.name == stem:
        return place  # the unpacked folder itself
    if stem == "all_runs" and (place / "run01").is_dir():
        return place  # all_runs.zip unpacked in place: <place>/run01/...
    return None


def _downloader():
    """The pooch downloader of the official files: the one network access (tests replace it)."""
    return pooch.HTTPDownloader(progressbar=False, timeout=60)


def _download(name: str, target_dir: Path) -> Path:
    """Download official file ``name`` into ``target_dir`` with pooch, SHA-256 checked."""
    url, size, sha256 = OFFICIAL_FILES[name]
    try:
        return Path(pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=name,
                                   path=target_dir, downloader=_downloader()))
    except ValueError as err:  # pooch's digest mismatch; it has deleted the temporary file
        raise ValueError(
            f"Downloaded {url} but its SHA-256 is not the expected {sha256} (the official file "
            f"is {size} bytes); the file was discarded, nothing was written to "
            f"{target_dir / name}. The download was incomplete or the file changed upstream: "
            f"retry, or fetch the file yourself and pass root=<its folder> or set "
            f"OMNIGLOT_DIR. (pooch: {err})") from err


def locate(stem: str, root=None, download: bool = True) -> Path:
    r"""Find (or download) one Omniglot file: the zip or its unpacked folder.

    Parameters
    ----------
    stem : str
        ``"images_background"``, ``"images_evaluation"``, ``"images_background_small1"``,
        ``"images_background_small2"`` or ``"all_runs"``.
    root : str or os.PathLike, optional
        A folder holding ``<stem>.zip`` or the unpacked folder ``<stem>/``, or a zip file. When
        given, only this place is searched and a download goes into it.
    download : bool
        Download the official file when it is found nowhere, with ``pooch.retrieve`` and its
        known SHA-256 (`OFFICIAL_FILES`), into ``root`` when given, else into `cache_dir`.

    Returns
    -------
    pathlib.Path
        The zip file, or the folder to read the unpacked files from.

    Raises
    ------
    FileNotFoundError
        Not found and not downloadable (download disabled or no network); the message lists
        every place searched and how to fix it.
    ValueError
        Unknown ``stem``, or a downloaded file whose SHA-256 does not match (nothing is kept).

    Examples
    --------
    >>> locate("all_runs", root="/work/shared/data/omniglot")   # doctest: +SKIP
    PosixPath('/work/shared/data/omniglot/all_runs.zip')
    """
    name = f"{stem}.zip"
    if name not in OFFICIAL_FILES:
        known = ", ".join(repr(n[:-4]) for n in OFFICIAL_FILES)
        raise ValueError(f"unknown Omniglot file {stem!r}; expected one of {known}")
    places = _places(root)
    for place, _why in places:
        found = _find_in(place, stem)
        if found is not None:
            return found
    searched = "\n".join(
        f"  - {place} ({why}): no {name} and no unpacked folder {stem}/" for place, why in places)
    message = f"Omniglot file {name} not found. Looked in:\n{searched}\n"
    if not download:
        raise FileNotFoundError(message + "Downloading is switched off (download=False). "
                                + _HOW_TO_FIX)
    target = places[0][0] if root is not None else cache_dir()
    try:
        return _download(name, target)
    except OSError as err:  # no network, HTTP error, unwritable folder
        raise FileNotFoundError(
            message + f"Downloading {OFFICIAL_FILES[name][0]} into {target} failed: {err}. "
            + _HOW_TO_FIX) from err


# ----------------------------------------------------------------------------------------------
# Reading zips and folders
# ----------------------------------------------------------------------------------------------

class _Archive:
    """Uniform read access to a zip file or an unpacked folder, by relative POSIX names."""

    def __init__(self, path: Path, stem: str):
        self.path = path
        self._zip = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise ValueError(
                    f"{path} is not a readable zip file ({err}); it is probably truncated or "
                    f"corrupt. Delete it and download it again (the official "
                    f"{stem}.zip is {OFFICIAL_FILES[stem + '.zip'][1]} bytes), or point "
                    f"root=/OMNIGLOT_DIR at a good copy.") from err
            self.names = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            # Names relative to a base folder, laid out as inside the zip: an image folder is
            # read from its parent ("images_background/<Alphabet>/..."), the runs from the
            # folder holding run01 ... run20 ("run01/training/...").
            if stem == "all_runs":
                base = path
                tops = sorted(d for d in os.listdir(base) if re.fullmatch(r"run\d\d", d))
            else:
                base, tops = path.parent, [path.name]
            self._base = base
            names = []
            for top in tops:
                for dirpath, _dirs, files in os.walk(base / top):
                    rel = Path(dirpath).relative_to(base).as_posix()
                    names.extend(f"{rel}/{f}" for f in files)
            self.names = names
        self.names = sorted(n for n in self.names
                            if not n.startswith("__MACOSX/") and "/." not in "/" + n)

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(name)
            return (self._base / name).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
            raise ValueError(
                f"cannot read {name} from {self.path} ({err}); the file is truncated or corrupt. "
                f"Delete it and download it again, or point root=/OMNIGLOT_DIR at a good copy."
            ) from err

    def close(self):
        if self._zip is not None:
            self._zip.close()


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


def _decode_to_ink(archive: _Archive, names: list[str], size: int,
                   chunk: int = 512) -> np.ndarray:
    """Decode PNGs ``names`` to ink-on-zero float64 ``(len(names), size, size)``."""
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


# ----------------------------------------------------------------------------------------------
# Loaders
# ----------------------------------------------------------------------------------------------

def load_omniglot(subset: str = "background", root=None, size: int = 28, download: bool = True,
                  check_counts: bool = True) -> dict:
    r"""Load one Omniglot image set as ink-on-zero float64 arrays, one row per character.

    Parameters
    ----------
    subset : {"background", "evaluation", "background_small1", "background_small2"}
        Which official set (see `SUBSETS`): 964, 659, 136 or 156 characters.
    root : str or os.PathLike, optional
        Folder holding ``images_<subset>.zip`` or the unpacked ``images_<subset>/``, or the zip
        itself. Default: ``$OMNIGLOT_DIR``, then the user cache, then a download (see
        `locate`).
    size : int
        Output height and width; 105 keeps the original resolution (memory: 19,280 images at
        105x105 in float64 are 1.7 GB; at 28x28, 121 MB).
    download : bool
        Download the official zip when it is found nowhere.
    check_counts : bool
        Require the official number of characters and 20 drawers each; switch off to read a
        partial copy (every character must still have the same number of images).

    Returns
    -------
    dict
        ``images``: float64 ``(C, 20, size, size)``, ink 1, background 0, drawers in file
        order; ``alphabets``: list of C alphabet names, one per character;
        ``characters``: list of C folder names (``"character01"``...), unique within an
        alphabet; ``files``: C lists of the 20 file names (relative to the zip);
        ``subset``: the subset name; ``source``: the zip or folder read, as a string.

    Raises
    ------
    FileNotFoundError
        The files are found nowhere (see `locate`).
    ValueError
        Unknown subset, bad ``size``, a truncated or corrupt zip or PNG, a layout other than
        ``images_<subset>/<Alphabet>/<character>/<file>.png``, or unexpected counts.

    Examples
    --------
    >>> data = load_omniglot("evaluation", size=28)          # doctest: +SKIP
    >>> data["images"].shape                                 # doctest: +SKIP
    (659, 20, 28, 28)
    >>> data["alphabets"][0], data["characters"][0]          # doctest: +SKIP
    ('Angelic', 'character01')
    """
    if subset not in SUBSETS:
        raise ValueError(f"unknown Omniglot subset {subset!r}; choose one of {list(SUBSETS)}")
    size = _check_size(size)
    stem, n_alphabets, n_characters = SUBSETS[subset]
    path = locate(stem, root=root, download=download)
    archive = _Archive(path, stem)
    try:
        groups: dict[tuple[str, str], list[str]] = {}
        for name in archive.names:
            parts = name.split("/")
            if len(parts) != 4 or parts[0] != stem or not parts[3].lower().endswith(".png"):
                raise ValueError(
                    f"unknown layout in {path}: found {name!r}, expected "
                    f"'{stem}/<Alphabet>/<character>/<image>.png' (the layout of the official "
                    f"{stem}.zip). Point root=/OMNIGLOT_DIR at the official zip or its "
                    f"unpacked folder.")
            groups.setdefault((parts[1], parts[2]), []).append(name)
        if not groups:
            raise ValueError(f"unknown layout in {path}: no '{stem}/<Alphabet>/<character>/"
                             f"<image>.png' files found. Point root=/OMNIGLOT_DIR at the official "
                             f"{stem}.zip or its unpacked folder.")
        keys = sorted(groups)
        per_char = {len(groups[k]) for k in keys}
        alphabets = [a for a, _ in keys]
        if check_counts and (len(keys) != n_characters or per_char != {_N_DRAWERS}
                             or len(set(alphabets)) != n_alphabets):
            raise ValueError(
                f"{path} holds {len(set(alphabets))} alphabets, {len(keys)} characters and "
                f"{sorted(per_char)} images per character; the official {stem} has "
                f"{n_alphabets} alphabets, {n_characters} characters and {_N_DRAWERS} images "
                f"each. The copy is incomplete: replace it with the official {stem}.zip, or pass "
                f"check_counts=False to read it anyway.")
        if len(per_char) != 1:
            raise ValueError(f"{path}: characters have different numbers of images "
                             f"({sorted(per_char)}); every character needs the same number")
        files = [sorted(groups[k]) for k in keys]
        flat = [f for group in files for f in group]
        images = _decode_to_ink(archive, flat, size).reshape(len(keys), -1, size, size)
    finally:
        archive.close()
    return {
        "images": images,
        "alphabets": alphabets,
        "characters": [c for _, c in keys],
        "files": files,
        "subset": subset,
        "source": str(path),
    }


_RUN_FILE = re.compile(r"^(?:all_runs/)?(run\d\d)/(training|test)/([^/]+\.png)$")
_RUN_KEY = re.compile(r"^(?:all_runs/)?(run\d\d)/class_labels\.txt$")


def load_lake_runs(root=None, size: int = 28, download: bool = True) -> list[dict]:
    r"""Load Lake et al.'s (2015) 20 one-shot classification runs.

    Each run is a 20-way within-alphabet task drawn from the evaluation alphabets: one training
    image for each of 20 characters, and 20 test images (new drawers of the same characters), to
    be matched to the training image of the same character. The error rate is
    $\frac{1}{20}\sum_t [\hat a_t \ne a_t]$ per run, averaged over the runs.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding ``all_runs.zip`` or its unpacked runs (``all_runs/run01/...`` or
        ``run01/...``), or the zip itself. Default: ``$OMNIGLOT_DIR``, then the user cache, then
        a download (see `locate`).
    size : int
        Output height and width (105 keeps the original resolution).
    download : bool
        Download the official ``all_runs.zip`` when it is found nowhere.

    Returns
    -------
    list of 20 dict
        Each with ``train``: float64 ``(20, size, size)`` (``classNN.png`` in order, ink 1);
        ``test``: float64 ``(20, size, size)`` (``itemNN.png`` in order); ``answer``: int
        ``(20,)``, the index into ``train`` of the correct class of each test image (from
        ``class_labels.txt``); ``run``: ``"run01"``...; ``train_files``, ``test_files``.

    Raises
    ------
    FileNotFoundError
        The file is found nowhere (see `locate`).
    ValueError
        A truncated or corrupt zip or PNG, an unknown layout, or an answer key that does not
        match the images.

    Examples
    --------
    >>> runs = load_lake_runs()                                    # doctest: +SKIP
    >>> run = runs[0]                                              # doctest: +SKIP
    >>> # 1-nearest-neighbour in pixel space
    >>> d = ((run["test"][:, None] - run["train"][None]) ** 2).sum(axis=(2, 3))  # doctest: +SKIP
    >>> error = np.mean(d.argmin(axis=1) != run["answer"])        # doctest: +SKIP
    """
    size = _check_size(size)
    path = locate("all_runs", root=root, download=download)
    archive = _Archive(path, "all_runs")
    fix = ("Point root=/OMNIGLOT_DIR at the official all_runs.zip (python/one-shot-classification/ "
           "in the Omniglot repository) or its unpacked folder.")
    try:
        runs: dict[str, dict] = {}
        for name in archive.names:
            match, key = _RUN_FILE.match(name), _RUN_KEY.match(name)
            if match:
                run, part, _file = match.groups()
                runs.setdefault(run, {"training": [], "test": [], "key": None})[part].append(name)
            elif key:
                runs.setdefault(key.group(1), {"training": [], "test": [], "key": None})[
                    "key"] = name
            else:
                raise ValueError(f"unknown layout in {path}: found {name!r}, expected "
                                 f"'runNN/training/*.png', 'runNN/test/*.png' and "
                                 f"'runNN/class_labels.txt'. {fix}")
        names = sorted(runs)
        if names != [f"run{i:02d}" for i in range(1, _N_RUNS + 1)]:
            raise ValueError(f"{path} holds runs {names}, expected run01 ... run{_N_RUNS:02d}. "
                             f"{fix}")
        result = []
        for run in names:
            entry = runs[run]
            train_files, test_files = sorted(entry["training"]), sorted(entry["test"])
            if len(train_files) != _RUN_WAYS or len(test_files) != _RUN_WAYS or not entry["key"]:
                raise ValueError(
                    f"{path}: {run} has {len(train_files)} training and {len(test_files)} test "
                    f"images and {'an' if entry['key'] else 'no'} answer key; expected "
                    f"{_RUN_WAYS}, {_RUN_WAYS} and class_labels.txt. {fix}")
            answer = _read_answer_key(archive, entry["key"], train_files, test_files)
            images = _decode_to_ink(archive, train_files + test_files, size)
            result.append({
                "run": run,
                "train": images[:_RUN_WAYS],
                "test": images[_RUN_WAYS:],
                "answer": answer,
                "train_files": train_files,
                "test_files": test_files,
            })
    finally:
        archive.close()
    return result


def _read_answer_key(archive: _Archive, key_name: str, train_files: list[str],
                     test_files: list[str]) -> np.ndarray:
    """Parse ``class_labels.txt``: test image -> index of its training image."""
    def tail(name):  # "all_runs/run01/test/item01.png" and "run01/test/item01.png" alike
        return "/".join(name.split("/")[-3:])

    train_index = {tail(f): i for i, f in enumerate(train_files)}
    test_index = {tail(f): i for i, f in enumerate(test_files)}
    answer = np.full(len(test_files), -1, dtype=np.int64)
    try:
        text = archive.read(key_name).decode("ascii")
    except UnicodeDecodeError as err:
        raise ValueError(f"{archive.path}: {key_name} is not a text answer key ({err})") from err
    for line in text.split("\n"):
        if not line.strip():
            continue
        fields = line.split()
        if (len(fields) != 2 or tail(fields[0]) not in test_index
                or tail(fields[1]) not in train_index):
            raise ValueError(f"{archive.path}: {key_name} has the line {line.strip()!r}; expected "
                             f"'<run>/test/<item>.png <run>/training/<class>.png' naming files of "
                             f"the run")
        answer[test_index[tail(fields[0])]] = train_index[tail(fields[1])]
    if (answer < 0).any():
        missing = [test_files[i] for i in np.flatnonzero(answer < 0)]
        raise ValueError(f"{archive.path}: {key_name} gives no answer for {missing}")
    return answer
