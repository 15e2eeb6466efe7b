"""Parsing one Omniglot image set (``images_background.zip`` and the others) into arrays.

Private to `reference.datasets`: `reference.datasets.omniglot.load_omniglot` finds and opens the
file and `read_image_set` reads it. Inside the zip the layout is
``<stem>/<Alphabet>/characterNN/<id>_<drawer>.png``, one folder per character with one image
per drawer.
"""

from __future__ import annotations

import numpy as np

from .images import _decode_to_ink

#: Images per character in the official sets: each character was drawn by 20 people.
_N_DRAWERS = 20


def read_image_set(archive, stem: str, n_alphabets: int, n_characters: int, size: int,
                   check_counts: bool) -> tuple[np.ndarray, list, list, list]:
    """Images ``(characters, drawers, size, size)`` (ink 1), alphabets, characters and files.

    ``archive`` is an open ``_Archive`` of the set ``stem``; ``n_alphabets`` and
    ``n_characters`` are the official counts, checked when ``check_counts`` is true. Characters
    come sorted by (alphabet, character) and each character's files sorted by name. Raises
    ``ValueError`` on an unknown layout, counts that differ from the official ones, or
    characters with different numbers of images.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for name in archive.names:
        parts = name.split("/")
        if len(parts) != 4 or parts[0] != stem or not parts[3].lower().endswith(".png"):
            raise ValueError(
                f"unknown layout in {archive.path}: found {name!r}, expected "
                f"'{stem}/<Alphabet>/<character>/<image>.png' (the layout of the official "
                f"{stem}.zip). Point root=/OMNIGLOT_DIR at the official zip or its "
                f"unpacked folder.")
        groups.setdefault((parts[1], parts[2]), []).append(name)
    if not groups:
        raise ValueError(f"unknown layout in {archive.path}: no '{stem}/<Alphabet>/<character>/"
                         f"<image>.png' files found. Point root=/OMNIGLOT_DIR at the official "
                         f"{stem}.zip or its unpacked folder.")
    keys = sorted(groups)
    per_char = {len(groups[k]) for k in keys}
    alphabets = [a for a, _ in keys]
    if check_counts and (len(keys) != n_characters or per_char != {_N_DRAWERS}
                         or len(set(alphabets)) != n_alphabets):
        raise ValueError(
            f"{archive.path} holds {len(set(alphabets))} alphabets, {len(keys)} characters and "
            f"{sorted(per_char)} images per character; the official {stem} has "
            f"{n_alphabets} alphabets, {n_characters} characters and {_N_DRAWERS} images "
            f"each. The copy is incomplete: replace it with the official {stem}.zip, or pass "
            f"check_counts=False to read it anyway.")
    if len(per_char) != 1:
        raise ValueError(f"{archive.path}: characters have different numbers of images "
                         f"({sorted(per_char)}); every character needs the same number")
    files = [sorted(groups[k]) for k in keys]
    flat = [f for group in files for f in group]
    images = _decode_to_ink(archive, flat, size).reshape(len(keys), -1, size, size)
    return images, alphabets, [c for _, c in keys], files
