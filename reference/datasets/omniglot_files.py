r"""Where the Omniglot files are found, and their download: the official files and their digests.

The search order (the ``root`` argument, ``$OMNIGLOT_DIR``, the user cache, a download checked
against its SHA-256) is described in the docstring of `reference.datasets.omniglot`, which
re-exports `locate`, `cache_dir` and `OFFICIAL_FILES`; the loaders there call `locate`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pooch

__all__ = ["OFFICIAL_FILES", "cache_dir", "locate"]

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

