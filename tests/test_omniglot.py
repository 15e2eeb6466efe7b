r"""Tests for the Omniglot loader: PNG decoding, resizing, finding and downloading files, errors.

Tests marked by the ``real`` fixture read the official files from ``$OMNIGLOT_DIR`` or
``../shared/data/omniglot`` (relative to the repository) and skip, saying so, when neither
exists. Everything else builds small synthetic zips and folders in ``tmp_path``, with PNGs
written by Pillow, so it runs anywhere. No test touches the network: the pooch downloader
``omniglot_files._downloader`` is replaced, and pooch's own hashing and temporary-file handling
run as they do for a real download.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reference.datasets import omniglot as og
from reference.datasets import omniglot_files

REPO = Path(__file__).resolve().parents[1]


def _real_dir() -> Path | None:
    for candidate in (os.environ.get("OMNIGLOT_DIR"), REPO.parent / "shared" / "data" / "omniglot"):
        if candidate and (Path(candidate) / "all_runs.zip").is_file():
            return Path(candidate)
    return None


REAL = _real_dir()
needs_real = pytest.mark.skipif(
    REAL is None, reason="Omniglot data not found: set OMNIGLOT_DIR or provide "
                         "../shared/data/omniglot (the official zips) to run this test")


def _fake_downloader(payload: bytes | None = None, fail_after: int | None = None, calls=None):
    """A pooch downloader ``(url, output_file, pooch)`` that writes ``payload`` (or fails)."""
    def download(url, output_file, _pooch):
        if calls is not None:
            calls.append(url)
        if payload is None:
            raise ConnectionError("network disabled in tests")
        with open(output_file, "wb") as out:
            out.write(payload[:fail_after])
            if fail_after is not None:
                raise ConnectionResetError("connection dropped")
    return lambda: download


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network, and an empty private user cache, for every test."""
    monkeypatch.setattr(omniglot_files, "_downloader", _fake_downloader())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("OMNIGLOT_DIR", raising=False)


def encode_png(samples, depth: int = 8) -> bytes:
    """Grayscale PNG of integer ``samples`` (H, W) at bit depth 1, 2, 4, 8 or 16, by Pillow."""
    samples = np.asarray(samples)
    buf = io.BytesIO()
    if depth in (2, 4):  # Pillow writes mode "L" at 2 or 4 bits from the top bits of each byte
        image = Image.fromarray((samples * (255 // ((1 << depth) - 1))).astype(np.uint8))
        image.save(buf, format="PNG", bits=depth)
    else:
        dtype = {1: bool, 8: np.uint8, 16: np.uint16}[depth]
        Image.fromarray(samples.astype(dtype)).save(buf, format="PNG")
    data = buf.getvalue()
    assert data[24:26] == bytes([depth, 0])  # IHDR: this bit depth, colour type 0 (gray)
    return data


def _random_glyph(rng, size=16) -> np.ndarray:
    """A 1-bit image, 1 = white paper, with a few black strokes (0)."""
    img = np.ones((size, size), dtype=np.uint8)
    for _ in range(3):
        r, c = rng.integers(0, size - 4, 2)
        img[r:r + 4, c] = 0
        img[r, c:c + 4] = 0
    return img


def _synthetic_set(rng, stem="images_background_small1", alphabets=("Alpha", "Beta"),
                   n_chars=3, n_drawers=20, size=16) -> dict[str, bytes]:
    """{zip member name: PNG bytes} laid out as an official image zip."""
    files = {}
    cid = 0
    for alphabet in alphabets:
        for k in range(1, n_chars + 1):
            cid += 1
            for d in range(1, n_drawers + 1):
                name = f"{stem}/{alphabet}/character{k:02d}/{cid:04d}_{d:02d}.png"
                files[name] = encode_png(_random_glyph(rng, size), depth=1)
    return files


def _synthetic_runs(rng, size=12) -> dict[str, bytes]:
    """{member: bytes} laid out as all_runs.zip, with a shuffled answer key per run."""
    files = {}
    for r in range(1, 21):
        run = f"run{r:02d}"
        perm = rng.permutation(20)
        lines = []
        for k in range(20):
            files[f"{run}/training/class{k + 1:02d}.png"] = encode_png(
                _random_glyph(rng, size), depth=1)
            files[f"{run}/test/item{k + 1:02d}.png"] = encode_png(
                _random_glyph(rng, size), depth=1)
            lines.append(f"{run}/test/item{k + 1:02d}.png "
                         f"{run}/training/class{perm[k] + 1:02d}.png")
        files[f"{run}/class_labels.txt"] = ("\n".join(lines) + "\n").encode()
    return files


def _write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _write_dir(base: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return base


# ----------------------------------------------------------------------------------------------
# PNG decoder
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 4, 8, 16])
def test_decode_png_every_depth(rng, depth):
    samples = rng.integers(0, 1 << depth, size=(7, 13))
    png = encode_png(samples, depth=depth)
    decoded = og.decode_png(png)
    assert decoded.dtype == np.float64 and decoded.shape == (7, 13)
    np.testing.assert_array_equal(decoded, samples / ((1 << depth) - 1))


def test_decode_png_rejects_bad_files(rng):
    png = encode_png(rng.integers(0, 2, size=(5, 5)), depth=1)
    with pytest.raises(ValueError, match="not a readable PNG"):
        og.decode_png(b"GIF89a" + png[6:])
    # Pillow needs neither IEND nor the IDAT CRC once the pixels are complete; a cut that loses
    # pixel data, a flipped byte in the compressed data (zlib's checksum) or in a checked chunk
    # (IHDR's CRC) are errors
    full = encode_png(rng.integers(0, 2, size=(105, 105)), depth=1)
    with pytest.raises(ValueError, match="truncated"):
        og.decode_png(full[: len(full) // 2])
    for position in (20, len(full) // 2):
        corrupt = bytearray(full)
        corrupt[position] ^= 0xFF
        with pytest.raises(ValueError, match="not a readable PNG"):
            og.decode_png(bytes(corrupt))
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, size=(5, 5, 3)).astype(np.uint8)).save(buf, "PNG")
    with pytest.raises(ValueError, match="only grayscale"):
        og.decode_png(buf.getvalue())


# ----------------------------------------------------------------------------------------------
# Resizing
# ----------------------------------------------------------------------------------------------

def test_resize_area_block_mean_constant_and_mean(rng):
    x = rng.random((3, 12, 12))
    blocks = x.reshape(3, 4, 3, 4, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(og.resize_area(x, 4), blocks, rtol=0, atol=1e-14)
    np.testing.assert_allclose(og.resize_area(np.full((105, 105), 0.3), 28), 0.3, atol=1e-14)
    y = rng.random((5, 105, 105))
    small = og.resize_area(y, 28)
    assert small.shape == (5, 28, 28)
    np.testing.assert_allclose(small.mean(axis=(1, 2)), y.mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_array_equal(og.resize_area(y, 105), y)


def test_resize_area_fractional_overlap():
    # 3 -> 2: output cell 0 covers pixel 0 and half of pixel 1.
    x = np.array([[1.0, 0.0, 0.0]] * 3)
    np.testing.assert_allclose(og.resize_area(x, 2)[0], [2 / 3, 0.0], atol=1e-15)


@pytest.mark.parametrize("n_in, n_out", [(12, 4), (105, 35), (105, 21)])
def test_resize_area_matches_pillow_box_at_integer_factors(rng, n_in, n_out):
    # Pillow's BOX filter counts each input pixel in full or not at all, by where its centre
    # falls, which is the area average only when n_in / n_out is an integer; 105 -> 28 is
    # not, so the loader keeps its own weights. Pillow works in float32 here.
    x = rng.random((n_in, n_in)).astype(np.float32)
    box = Image.fromarray(x, mode="F").resize((n_out, n_out), Image.Resampling.BOX)
    np.testing.assert_allclose(og.resize_area(x.astype(np.float64), n_out),
                               np.asarray(box, dtype=np.float64), rtol=0, atol=1e-6)


@pytest.mark.parametrize("size", [0, -3, 2.5, True, "28"])
def test_bad_size_raises(size):
    with pytest.raises(ValueError, match="size must be a positive integer"):
        og.resize_area(np.ones((4, 4)), size)


# ----------------------------------------------------------------------------------------------
# Synthetic zips and folders: layout, errors, search order, downloads
# ----------------------------------------------------------------------------------------------

def test_zip_and_unpacked_folder_give_the_same_arrays(rng, tmp_path):
    files = _synthetic_set(rng)
    _write_zip(tmp_path / "images_background_small1.zip", files)
    _write_dir(tmp_path / "unpacked", files)
    a = og.load_omniglot("background_small1", root=tmp_path, size=8, download=False,
                         check_counts=False)
    b = og.load_omniglot("background_small1", root=tmp_path / "unpacked", size=8,
                         download=False, check_counts=False)
    c = og.load_omniglot("background_small1", root=tmp_path / "unpacked" /
                         "images_background_small1", size=8, download=False, check_counts=False)
    assert a["images"].shape == (6, 20, 8, 8)
    assert a["alphabets"] == ["Alpha"] * 3 + ["Beta"] * 3
    assert a["characters"][:3] == ["character01", "character02", "character03"]
    assert a["source"].endswith(".zip") and not b["source"].endswith(".zip")
    for other in (b, c):
        np.testing.assert_array_equal(a["images"], other["images"])
        assert a["files"] == other["files"]
    # ink = 1: the first image's strokes (0 in the PNG) become ink at full resolution
    full = og.load_omniglot("background_small1", root=tmp_path, size=16, download=False,
                            check_counts=False)
    first = full["files"][0][0]
    expected = 1.0 - og.decode_png(files[first])
    np.testing.assert_array_equal(full["images"][0, 0], expected)


def test_partial_copy_fails_the_count_check(rng, tmp_path):
    _write_zip(tmp_path / "images_background_small1.zip", _synthetic_set(rng))
    with pytest.raises(ValueError, match=r"136 characters.*check_counts=False"):
        og.load_omniglot("background_small1", root=tmp_path, download=False)


def test_unequal_drawers_raise(rng, tmp_path):
    files = _synthetic_set(rng)
    files.pop(next(iter(files)))
    _write_zip(tmp_path / "images_background_small1.zip", files)
    with pytest.raises(ValueError, match="different numbers of images"):
        og.load_omniglot("background_small1", root=tmp_path, download=False, check_counts=False)


def test_unknown_layout_raises(rng, tmp_path):
    files = {name.replace("character", "", 1).replace("/", "_", 1): data
             for name, data in _synthetic_set(rng).items()}
    zpath = _write_zip(tmp_path / "images_background_small1.zip", files)
    with pytest.raises(ValueError, match=r"unknown layout.*<Alphabet>/<character>"):
        og.load_omniglot("background_small1", root=zpath, download=False, check_counts=False)
    # the evaluation zip given where the background set is expected
    zpath = _write_zip(tmp_path / "other.zip", _synthetic_set(rng, stem="images_evaluation"))
    with pytest.raises(ValueError, match="unknown layout"):
        og.load_omniglot("background_small1", root=zpath, download=False, check_counts=False)


def test_truncated_zip_raises_clear_error(rng, tmp_path):
    good = _write_zip(tmp_path / "good.zip", _synthetic_set(rng, n_chars=1))
    data = good.read_bytes()
    bad = tmp_path / "cut" / "images_background_small1.zip"
    bad.parent.mkdir()
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"not a readable zip.*truncated.*download it again"):
        og.load_omniglot("background_small1", root=bad.parent, download=False,
                         check_counts=False)


def test_corrupt_member_raises_clear_error(rng, tmp_path):
    files = _synthetic_set(rng, n_chars=1)
    zpath = _write_zip(tmp_path / "images_background_small1.zip", files)
    with zipfile.ZipFile(zpath) as z:
        info = z.infolist()[5]
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw = bytearray(zpath.read_bytes())
    raw[offset + 10] ^= 0xFF
    zpath.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"cannot read .*corrupt|CRC|corrupt"):
        og.load_omniglot("background_small1", root=tmp_path, download=False, check_counts=False)


def test_missing_files_error_lists_places_and_fixes(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        og.load_omniglot("evaluation", root=missing, download=False)
    message = str(info.value)
    assert "images_evaluation.zip" in message and str(missing) in message
    assert "OMNIGLOT_DIR" in message and "root=" in message and "download=False" in message
    # no root: the environment variable and the user cache are both listed
    monkeypatch.setenv("OMNIGLOT_DIR", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as info:
        og.load_lake_runs(download=False)
    message = str(info.value)
    assert str(tmp_path / "env") in message and str(og.cache_dir()) in message
    assert "all_runs.zip" in message
    # download allowed but no network: the URL and the failure are reported
    with pytest.raises(FileNotFoundError, match=r"one-shot-classification/all_runs.zip.*network"):
        og.load_lake_runs()
    assert not og.cache_dir().exists() or not any(og.cache_dir().iterdir())


def test_search_order_root_env_cache(rng, tmp_path, monkeypatch):
    files = _synthetic_set(rng, n_chars=1)
    env_dir, cache = tmp_path / "env", og.cache_dir()
    cache.mkdir(parents=True)
    _write_zip(cache / "images_background_small1.zip", files)
    assert og.locate("images_background_small1", download=False) == \
        cache / "images_background_small1.zip"
    _write_dir(env_dir, files)
    monkeypatch.setenv("OMNIGLOT_DIR", str(env_dir))
    assert og.locate("images_background_small1", download=False) == \
        env_dir / "images_background_small1"
    # an explicit root is the only place searched
    with pytest.raises(FileNotFoundError):
        og.locate("images_background_small1", root=tmp_path / "empty", download=False)
    with pytest.raises(ValueError, match="unknown Omniglot file"):
        og.locate("images_background_small3")


def test_download_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(omniglot_files, "_downloader", _fake_downloader(b"not the real zip" * 100))
    with pytest.raises(ValueError, match=r"SHA-256.*discarded.*OMNIGLOT_DIR"):
        og.load_lake_runs(root=tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(omniglot_files, "_downloader",
                        _fake_downloader(b"x" * 5000, fail_after=2000))
    with pytest.raises(FileNotFoundError, match="connection dropped"):
        og.load_lake_runs(root=tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_verified_download_is_used_and_kept(rng, tmp_path, monkeypatch):
    payload = _write_zip(tmp_path / "src.zip", _synthetic_runs(rng)).read_bytes()
    url = "https://example.invalid/all_runs.zip"
    monkeypatch.setitem(og.OFFICIAL_FILES, "all_runs.zip",
                        (url, len(payload), hashlib.sha256(payload).hexdigest()))
    calls = []
    monkeypatch.setattr(omniglot_files, "_downloader", _fake_downloader(payload, calls=calls))
    runs = og.load_lake_runs(size=6)  # nothing anywhere: downloads into the user cache
    assert calls == [url]
    assert (og.cache_dir() / "all_runs.zip").read_bytes() == payload
    assert [p.name for p in og.cache_dir().iterdir()] == ["all_runs.zip"]
    assert len(runs) == 20 and runs[0]["train"].shape == (20, 6, 6)
    og.load_lake_runs(size=6)  # the second call finds the cached file
    assert calls == [url]


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_CACHE_HOME is the Linux cache folder")
def test_cache_dir_follows_xdg_cache_home(tmp_path):
    assert og.cache_dir() == tmp_path / "xdg-cache" / "paper-reference-2016" / "omniglot"


def test_official_urls_and_digests_are_well_formed():
    assert set(og.OFFICIAL_FILES) == {f"{stem}.zip" for stem, _, _ in og.SUBSETS.values()} | {
        "all_runs.zip"}
    for name, (url, size, sha) in og.OFFICIAL_FILES.items():
        assert url.startswith("https://github.com/brendenlake/omniglot/raw/master/python/")
        assert url.endswith("/" + name) and size > 100_000
        assert len(sha) == 64 and int(sha, 16) >= 0


def test_lake_runs_from_zip_and_folders(rng, tmp_path):
    files = _synthetic_runs(rng)
    _write_zip(tmp_path / "all_runs.zip", files)
    _write_dir(tmp_path / "a" / "all_runs", files)
    _write_dir(tmp_path / "b", files)  # unpacked in place: b/run01/...
    runs = og.load_lake_runs(root=tmp_path, size=12, download=False)
    assert len(runs) == 20 and runs[3]["run"] == "run04"
    key = files["run04/class_labels.txt"].decode().split("\n")[5].split()[1]
    assert runs[3]["train_files"][runs[3]["answer"][5]] == key
    np.testing.assert_array_equal(runs[3]["test"][0],
                                  1.0 - og.decode_png(files["run04/test/item01.png"]))
    for root in (tmp_path / "a", tmp_path / "b"):
        other = og.load_lake_runs(root=root, size=12, download=False)
        for r, o in zip(runs, other):
            np.testing.assert_array_equal(r["train"], o["train"])
            np.testing.assert_array_equal(r["answer"], o["answer"])


def test_lake_runs_bad_answer_key(rng, tmp_path):
    files = _synthetic_runs(rng)
    files["run07/class_labels.txt"] = b"run07/test/item01.png run07/training/class99.png\n"
    _write_zip(tmp_path / "all_runs.zip", files)
    with pytest.raises(ValueError, match="class_labels.txt has the line"):
        og.load_lake_runs(root=tmp_path, download=False)
    files.pop("run07/class_labels.txt")
    files.pop("run20/test/item03.png")
    _write_zip(tmp_path / "all_runs.zip", files)
    with pytest.raises(ValueError, match=r"run07 has 20 training and 20 test images and no"):
        og.load_lake_runs(root=tmp_path, download=False)


def test_unknown_subset_raises():
    with pytest.raises(ValueError, match="unknown Omniglot subset"):
        og.load_omniglot("training")


# ----------------------------------------------------------------------------------------------
# The official files (skipped without them)
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def background():
    if REAL is None:
        pytest.skip("Omniglot data not found: set OMNIGLOT_DIR or provide ../shared/data/omniglot")
    return og.load_omniglot("background", root=REAL, download=False)


@pytest.fixture(scope="module")
def runs_full():
    if REAL is None:
        pytest.skip("Omniglot data not found: set OMNIGLOT_DIR or provide ../shared/data/omniglot")
    return og.load_lake_runs(root=REAL, size=105, download=False)


def test_background_counts_and_ink(background):
    images = background["images"]
    assert images.shape == (964, 20, 28, 28) and images.dtype == np.float64
    assert len(set(background["alphabets"])) == 30 and len(background["characters"]) == 964
    assert images.min() >= 0.0 and images.max() <= 1.0 + 1e-12
    # ink = 1: the border is (almost always) empty paper, every image has a stroke and most
    # reach full ink, and ink covers a minority of the page
    border = np.concatenate([images[..., 0, :], images[..., -1, :],
                             images[..., :, 0], images[..., :, -1]], axis=-1)
    assert border.mean() < 0.005 and np.median(images) == 0.0
    peak = images.max(axis=(2, 3))
    assert (peak > 0.5).all() and np.median(peak) > 0.95
    assert 0.03 < images.mean() < 0.2


@needs_real
@pytest.mark.parametrize("subset, n_alphabets, n_characters", [
    ("evaluation", 20, 659), ("background_small1", 5, 136), ("background_small2", 5, 156)])
def test_other_subset_counts(subset, n_alphabets, n_characters):
    data = og.load_omniglot(subset, root=REAL, size=14, download=False)
    assert data["images"].shape == (n_characters, 20, 14, 14)
    assert len(set(data["alphabets"])) == n_alphabets
    assert all(len(f) == 20 for f in data["files"])


def test_lake_runs_counts_ink_and_answer_key(runs_full):
    assert len(runs_full) == 20
    accuracy = []
    for run in runs_full:
        assert run["train"].shape == (20, 105, 105) and run["test"].shape == (20, 105, 105)
        # full resolution: exactly 0 or 1, ink (1) a minority of the pixels
        assert set(np.unique(run["train"])) <= {0.0, 1.0}
        assert 0.01 < run["test"].mean() < 0.2
        # the answer key is a permutation: each class is queried once
        np.testing.assert_array_equal(np.sort(run["answer"]), np.arange(20))
        d = ((run["test"][:, None] - run["train"][None]) ** 2).sum(axis=(2, 3))
        accuracy.append(np.mean(d.argmin(axis=1) == run["answer"]))
    # 1-nearest neighbour in pixel space is weak but far above chance (1/20) with the true key;
    # a wrong key would give about 0.05
    assert np.mean(accuracy) > 0.12


def test_resize_preserves_mean_ink(runs_full):
    full = np.stack([r["test"] for r in runs_full])
    small = np.stack([r["test"] for r in og.load_lake_runs(root=REAL, size=28,
                                                           download=False)])
    np.testing.assert_allclose(small.mean(axis=(-2, -1)), full.mean(axis=(-2, -1)), rtol=1e-10)


@needs_real
def test_unpacked_real_subset_matches_zip(tmp_path):
    stem = "images_background_small1"
    with zipfile.ZipFile(REAL / f"{stem}.zip") as z:
        members = [n for n in z.namelist() if n.endswith(".png")
                   and n.split("/")[1] == "Balinese" and n.split("/")[2] <= "character03"]
        z.extractall(tmp_path, members)
    part = og.load_omniglot("background_small1", root=tmp_path, download=False,
                            check_counts=False)
    whole = og.load_omniglot("background_small1", root=REAL, download=False)
    assert part["images"].shape == (3, 20, 28, 28)
    np.testing.assert_array_equal(part["images"], whole["images"][:3])
    assert part["files"] == whole["files"][:3]


@needs_real
def test_truncated_real_zip(tmp_path):
    data = (REAL / "images_background_small2.zip").read_bytes()
    (tmp_path / "images_background_small2.zip").write_bytes(data[: len(data) - 5000])
    with pytest.raises(ValueError, match=r"images_background_small2.zip.*truncated"):
        og.load_omniglot("background_small2", root=tmp_path, download=False)
