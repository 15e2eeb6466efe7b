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

from ._archive import _Archive
from ._image_sets import read_image_set
from ._lake_runs import read_runs
from .images import _check_size, decode_png, resize_area
from .omniglot_files import OFFICIAL_FILES, cache_dir, locate

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
