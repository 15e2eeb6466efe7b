"""Parsing Lake et al.'s (2015) 20 one-shot runs (``all_runs.zip``) into arrays.

Private to `reference.datasets`: `reference.datasets.omniglot.load_lake_runs` finds and opens
the file and `read_runs` reads the runs from it. Inside the zip each run is
``runNN/training/classMM.png`` (one image per class), ``runNN/test/itemMM.png`` (the queries)
and ``runNN/class_labels.txt``, whose lines ``runNN/test/itemMM.png runNN/training/classKK.png``
are the answer key.
"""

from __future__ import annotations

import re

import numpy as np

from .images import _decode_to_ink

_N_RUNS = 20
_RUN_WAYS = 20
_RUN_FILE = re.compile(r"^(?:all_runs/)?(run\d\d)/(training|test)/([^/]+\.png)$")
_RUN_KEY = re.compile(r"^(?:all_runs/)?(run\d\d)/class_labels\.txt$")


def read_runs(archive, size: int) -> list[dict]:
    """The 20 runs of an opened ``all_runs`` archive, images resized to ``size`` (ink 1).

    ``archive`` is an open ``_Archive`` of ``all_runs.zip`` or its folder; the records are
    those described by `reference.datasets.omniglot.load_lake_runs`. Raises ``ValueError`` on
    an unknown layout, a wrong number of runs or images, or a bad answer key.
    """
    fix = ("Point root=/OMNIGLOT_DIR at the official all_runs.zip (python/one-shot-classification/ "
           "in the Omniglot repository) or its unpacked folder.")
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
            raise ValueError(f"unknown layout in {archive.path}: found {name!r}, expected "
                             f"'runNN/training/*.png', 'runNN/test/*.png' and "
                             f"'runNN/class_labels.txt'. {fix}")
    names = sorted(runs)
    if names != [f"run{i:02d}" for i in range(1, _N_RUNS + 1)]:
        raise ValueError(f"{archive.path} holds runs {names}, expected run01 ... run{_N_RUNS:02d}. "
                         f"{fix}")
    result = []
    for run in names:
        entry = runs[run]
        train_files, test_files = sorted(entry["training"]), sorted(entry["test"])
        if len(train_files) != _RUN_WAYS or len(test_files) != _RUN_WAYS or not entry["key"]:
            raise ValueError(
                f"{archive.path}: {run} has {len(train_files)} training and {len(test_files)} test "
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
    return result


def _read_answer_key(archive, key_name: str, train_files: list[str],
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
