"""Read access to an Omniglot zip file or its unpacked folder, by the names inside the zip.

Private to `reference.datasets`: the loaders of `reference.datasets.omniglot` open what
`locate` found with `_Archive` and read files from it by relative POSIX names, so that a zip
and an unpacked copy give the same names.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from pathlib import Path


class _Archive:
    """Uniform read access to a zip file or an unpacked folder, by relative POSIX names.

    ``stem`` names the official file (``"images_background"``, ``"all_runs"``) and
    ``official_bytes`` its size, quoted when a zip turns out to be unreadable.
    """

    def __init__(self, path: Path, stem: str, official_bytes: int):
        self.path = path
        self._zip = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise ValueError(
                    f"{path} is not a readable zip file ({err}); it is probably truncated or "
                    f"corrupt. Delete it and download it again (the official "
                    f"{stem}.zip is {official_bytes} bytes), or point "
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
