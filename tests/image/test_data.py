"""Tests for socialgan.image.data (loaders) and the IDX reader."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from socialgan.errors import DataError
from socialgan.image.data import (
    FASHION_MNIST_CLASSES,
    NAMED_SOURCES,
    ImageDataset,
    find_fashion_mnist,
    load_fashion_mnist,
    load_idx,
    load_image_folder,
    load_mnist5k,
    load_numpy,
    load_source,
    read_idx,
    save_npz,
)


def write_idx(path: Path, arr: np.ndarray, *, gz: bool = False, code: int = 0x08) -> Path:
    """Write ``arr`` (uint8) as an IDX file, optionally gzipped."""
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + arr.astype(">u1").tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims ``width x height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def save_grey(path: Path, w: int, h: int, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (w, h), value).save(path)
    return path


# ---------------------------------------------------------------------------- real data


def test_mnist5k_embedded_default() -> None:
    ds = load_mnist5k()
    assert ds.images.shape == (5000, 1, 28, 28)
    assert ds.images.dtype == torch.float32
    assert 0.0 <= float(ds.images.min()) and float(ds.images.max()) <= 1.0
    assert float(ds.images.max()) == 1.0  # uint8 255 -> 1.0, not left in 0..255
    assert ds.num_classes == 10 and ds.class_names == [str(d) for d in range(10)]
    assert ds.labels is not None and ds.labels.dtype == torch.int64
    assert torch.bincount(ds.labels).tolist() == [500] * 10
    assert (ds.channels, ds.size, len(ds)) == (1, 28, 5000)


def test_fashion_mnist_test_split(shared_data: Path) -> None:
    root = shared_data / "images" / "fashion-mnist"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    ds = load_fashion_mnist(root, split="test")
    assert ds.images.shape == (10000, 1, 28, 28)
    assert ds.num_classes == 10 and ds.class_names == list(FASHION_MNIST_CLASSES)
    assert ds.labels is not None and torch.bincount(ds.labels).tolist() == [1000] * 10
    via_spec = load_source(f"fashion-mnist:test@{root}", limit=5, size=14)
    assert via_spec.images.shape == (5, 1, 14, 14)
    assert via_spec.labels is not None
    assert torch.equal(via_spec.labels, ds.labels[:5])


def test_find_fashion_mnist_env_and_errors(tmp_path: Path, monkeypatch) -> None:
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 3, 3), np.uint8))
    monkeypatch.setenv("SOCIALGAN_FASHION_MNIST", str(tmp_path))
    assert find_fashion_mnist() == tmp_path
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):  # labels missing
        load_fashion_mnist(split="test")
    monkeypatch.setenv("SOCIALGAN_FASHION_MNIST", str(tmp_path / "nope"))
    with pytest.raises(DataError, match="nope"):
        find_fashion_mnist()


def test_att_faces_folder_with_classes(shared_data: Path) -> None:
    root = shared_data / "images" / "att_faces"
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    ds = load_image_folder(root, size=64)  # README at the top level is skipped
    assert ds.images.shape == (400, 1, 64, 64)
    assert ds.num_classes == 40 and ds.class_names is not None
    assert ds.class_names[:3] == ["s1", "s2", "s3"]  # natural order
    assert ds.labels is not None and torch.bincount(ds.labels).tolist() == [10] * 40
    native = load_image_folder(root, limit=3)
    assert native.images.shape == (3, 1, 112, 92)


# ---------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_valid(tmp_path: Path, gz: bool) -> None:
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / ("x-idx3-ubyte" + (".gz" if gz else "")), arr, gz=gz)
    out = read_idx(path)
    assert out.dtype == np.uint8 and np.array_equal(out, arr)


def test_load_idx_with_labels_and_mismatch(tmp_path: Path) -> None:
    imgs = write_idx(tmp_path / "a-images-idx3-ubyte", np.full((3, 2, 2), 255, np.uint8))
    labels = write_idx(tmp_path / "a-labels-idx1-ubyte", np.array([0, 2, 1], np.uint8))
    ds = load_idx(imgs, labels)
    assert ds.images.shape == (3, 1, 2, 2) and float(ds.images.max()) == 1.0
    assert ds.num_classes == 3 and ds.labels is not None and ds.labels.tolist() == [0, 2, 1]
    assert load_source(str(imgs)).num_classes == 3  # sibling labels file found
    short = write_idx(tmp_path / "b-labels-idx1-ubyte", np.array([0, 1], np.uint8))
    with pytest.raises(DataError) as info:
        load_idx(imgs, short)
    assert "b-labels-idx1-ubyte" in str(info.value) and "a-images-idx3-ubyte" in str(info.value)


def test_idx_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "bad-magic-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 20)
    with pytest.raises(DataError, match=r"bad-magic-idx3-ubyte: not an IDX file: bad magic"):
        read_idx(path)


def test_idx_truncated(tmp_path: Path) -> None:
    path = tmp_path / "train-images.gz"
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    path.write_bytes(gzip.compress(header + b"\x00" * 1000))
    with pytest.raises(DataError) as info:
        read_idx(path)
    msg = str(info.value)
    assert "train-images.gz: truncated IDX file" in msg
    assert "60000x28x28 = 47040000 bytes" in msg and "found 1000" in msg


def test_idx_trailing_bytes(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "long-idx1-ubyte", np.array([1, 2], np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DataError, match="long-idx1-ubyte: corrupt IDX file"):
        read_idx(path)


def test_idx_corrupt_gzip(tmp_path: Path) -> None:
    good = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 5000) + bytes(5000))
    corrupt = tmp_path / "corrupt-idx1-ubyte.gz"
    corrupt.write_bytes(good[:20] + b"\xff" * 10 + good[30:])
    with pytest.raises(DataError, match="corrupt-idx1-ubyte.gz: corrupt gzip"):
        read_idx(corrupt)
    cut = tmp_path / "cut-idx1-ubyte.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="cut-idx1-ubyte.gz: corrupt gzip"):
        read_idx(cut)
    fake = tmp_path / "fake-idx1-ubyte.gz"
    fake.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="fake-idx1-ubyte.gz: not a gzip file"):
        read_idx(fake)


# ---------------------------------------------------------------------------- folders


def test_flat_folder_unlabelled_skips_non_images(tmp_path: Path) -> None:
    save_grey(tmp_path / "b.png", 8, 8, 0)
    Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / "a.jpg")
    save_grey(tmp_path / "c.pgm", 8, 8, 255)
    Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / "d.webp")
    (tmp_path / "README").write_text("not an image")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_text("hidden, skipped")
    ds = load_image_folder(tmp_path)
    assert ds.images.shape == (4, 1, 8, 8) and ds.labels is None and ds.num_classes == 0
    rgb = load_image_folder(tmp_path, grayscale=False, size=4)
    assert rgb.images.shape == (4, 3, 4, 4)
    assert rgb.images[0, 0].mean() > 0.9 > rgb.images[0, 2].mean()  # a.jpg is red


def test_text_file_named_png(tmp_path: Path) -> None:
    save_grey(tmp_path / "ok.png", 8, 8)
    (tmp_path / "fake.png").write_text("this is text, not a PNG")
    with pytest.raises(DataError, match="fake.png"):
        load_image_folder(tmp_path)


def test_mixed_sizes_without_size(tmp_path: Path) -> None:
    save_grey(tmp_path / "small.png", 8, 8)
    save_grey(tmp_path / "wide.png", 16, 8)
    with pytest.raises(DataError) as info:
        load_image_folder(tmp_path)
    assert "small.png is 8x8" in str(info.value) and "wide.png is 16x8" in str(info.value)
    ds = load_image_folder(tmp_path, size=6)
    assert ds.images.shape == (2, 1, 6, 6)


def test_empty_folder_and_mixed_layout(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no image files"):
        load_image_folder(tmp_path)
    save_grey(tmp_path / "cat" / "1.png", 4, 4)
    save_grey(tmp_path / "top.png", 4, 4)
    with pytest.raises(DataError, match="both at the top level"):
        load_image_folder(tmp_path)


def test_decompression_bomb_header(tmp_path: Path) -> None:
    save_grey(tmp_path / "ok.png", 8, 8)
    (tmp_path / "bomb.png").write_bytes(png_header_claiming(100_000, 100_000))
    with pytest.raises(DataError, match="bomb.png"):
        load_image_folder(tmp_path)
    (tmp_path / "bomb.png").write_bytes(png_header_claiming(8000, 8000))  # 64 Mpx: our limit
    with pytest.raises(DataError, match="bomb.png.*more than the limit"):
        load_image_folder(tmp_path)


def test_pixel_limit_parameter(tmp_path: Path) -> None:
    save_grey(tmp_path / "normal.png", 10, 10)
    with pytest.raises(DataError, match="normal.png: image is 10x10 = 100 pixels"):
        load_image_folder(tmp_path, max_pixels=99)
    assert len(load_image_folder(tmp_path, max_pixels=100)) == 1


# ---------------------------------------------------------------------------- numpy


def test_npy_object_dtype_rejected(tmp_path: Path) -> None:
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="obj.npy"):
        load_numpy(path)
    npz = tmp_path / "obj.npz"
    np.savez(npz, images=np.array([None, 1], dtype=object))
    with pytest.raises(DataError, match="obj.npz"):
        load_numpy(npz)


def test_npy_layouts_and_ranges(tmp_path: Path) -> None:
    nhwc = np.random.default_rng(0).integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)
    np.save(tmp_path / "nhwc.npy", nhwc)
    ds = load_numpy(tmp_path / "nhwc.npy")
    assert ds.images.shape == (4, 3, 5, 6)
    assert torch.allclose(ds.images[1, 2], torch.from_numpy(nhwc[1, :, :, 2] / 255.0).float())
    np.save(tmp_path / "nhw.npy", np.full((2, 4, 4), 0.5, np.float32))
    assert load_numpy(tmp_path / "nhw.npy").images.shape == (2, 1, 4, 4)
    np.save(tmp_path / "big.npy", np.full((2, 4, 4), 1.5, np.float32))
    with pytest.raises(DataError, match=r"big.npy: float pixel values must be in \[0, 1\]"):
        load_numpy(tmp_path / "big.npy")
    np.save(tmp_path / "neg.npy", np.full((2, 4, 4), -3, np.int16))
    with pytest.raises(DataError, match="neg.npy"):
        load_numpy(tmp_path / "neg.npy")


def test_npz_roundtrip(tmp_path: Path) -> None:
    x = torch.rand(6, 1, 5, 5)
    ds = ImageDataset(x, torch.tensor([0, 1, 2, 0, 1, 2]), 3, "toy", ["a", "b", "c"])
    path = save_npz(ds, tmp_path / "toy.npz")
    back = load_numpy(path)
    assert torch.equal(back.images, x) and back.labels is not None
    assert torch.equal(back.labels, ds.labels) and back.class_names == ["a", "b", "c"]
    np.savez(tmp_path / "plain.npz", images=(x.numpy() * 255).astype(np.uint8))
    plain = load_source(str(tmp_path / "plain.npz"), size=10, limit=4)
    assert plain.images.shape == (4, 1, 10, 10) and plain.labels is None
    np.savez(tmp_path / "nolabels.npz", pixels=x.numpy())
    with pytest.raises(DataError, match="must contain 'images'"):
        load_numpy(tmp_path / "nolabels.npz")


# ---------------------------------------------------------------------------- specs, dataset


def test_load_source_unknown_name_lists_sources() -> None:
    with pytest.raises(DataError) as info:
        load_source("no-such-dataset")
    for name in ("mnist5k", "fashion-mnist:test"):
        assert name in str(info.value)
    assert "mnist5k" in NAMED_SOURCES and "default" in NAMED_SOURCES


def test_load_source_default_resize_limit() -> None:
    ds = load_source("default", size=32, limit=20)
    assert ds.images.shape == (20, 1, 32, 32) and ds.num_classes == 10
    assert 0.0 <= float(ds.images.min()) and float(ds.images.max()) <= 1.0


def test_load_source_folder_rgb_to_grey(tmp_path: Path) -> None:
    Image.new("RGB", (12, 8), (255, 255, 255)).save(tmp_path / "a.png")
    grey = load_source(str(tmp_path), size=8)
    assert grey.images.shape == (1, 1, 8, 8) and torch.allclose(grey.images, torch.ones(1))
    assert load_source(str(tmp_path), grayscale=False).images.shape == (1, 3, 8, 12)


def test_image_dataset_validation_and_subset() -> None:
    ds = ImageDataset(torch.rand(5, 1, 4, 4), torch.tensor([0, 1, 0, 1, 1]), 2, "t", ["x", "y"])
    sub = ds.subset([4, 0])
    assert len(sub) == 2 and sub.labels is not None and sub.labels.tolist() == [1, 0]
    assert sub.num_classes == 2 and sub.class_names == ["x", "y"]
    with pytest.raises(DataError):
        ImageDataset(torch.rand(2, 4, 4))  # 3-D
    with pytest.raises(DataError):
        ImageDataset(torch.full((1, 1, 2, 2), 2.0))  # out of range
    with pytest.raises(DataError):
        ImageDataset(torch.rand(2, 1, 2, 2), torch.tensor([0, 3]), 2)  # label >= num_classes


def test_att_faces_named_source(shared_data):
    ds = load_source(f"att-faces@{shared_data / 'images/att_faces'}")
    assert ds.images.shape == (400, 1, 64, 64) and ds.num_classes == 40
    assert load_source(f"att-faces@{shared_data / 'images/att_faces'}", size=32).size == 32


def test_att_faces_bad_root_is_named(tmp_path):
    with pytest.raises(DataError, match=r"no AT&T faces"):
        load_source(f"att-faces@{tmp_path}")
