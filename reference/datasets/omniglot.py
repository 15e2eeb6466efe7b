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
(`resize_area`). PNGs are decoded by Pillow (`decode_png`). Both live in
`reference.datasets.images` and are re-exported here.

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

import os
from pathlib import Path

import pooch

from ._archive import _Archive
from ._image_sets import read_image_set
from ._lake_runs import read_runs
from .images import _check_size, decode_png, resize_area

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
    archive = _Archive(path, stem, OFFICIAL_FILES[stem + ".zip"][1])
    try:
        images, alphabets, characters, files = read_image_set(
            archive, stem, n_alphabets, n_characters, size, check_counts)
    finally:
        archive.close()
    return {
        "images": images,
        "alphabets": alphabets,
        "characters": characters,
        "files": files,
        "subset": subset,
        "source": str(path),
    }


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
    archive = _Archive(path, "all_runs", OFFICIAL_FILES["all_runs.zip"][1])
    try:
        return read_runs(archive, size)
    finally:
        archive.close()
