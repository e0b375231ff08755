"""The offline-first Fashion-MNIST loader."""

import gzip
import shutil

import numpy as np
import pytest

from autograder.public import data


@pytest.fixture
def real_dir():
    directory = data.find_local_dir()
    if directory is None:
        pytest.skip("no local Fashion-MNIST copy (make data installs one)")
    return directory


def test_loads_real_files_with_expected_shapes(real_dir):
    (x_train, y_train), (x_test, y_test) = data.load_from_dir(real_dir)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and set(np.unique(y_train)) == set(range(10))
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)


def test_debian_package_is_a_source():
    assert data.DEBIAN_DIR in data.candidate_dirs()


def test_env_var_takes_precedence(real_dir, tmp_path, monkeypatch):
    for name in data.FILES:
        shutil.copy(real_dir / name, tmp_path / name)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.find_local_dir() == tmp_path


def test_missing_file_in_env_dir_is_named(real_dir, tmp_path, monkeypatch):
    for name in list(data.FILES)[1:]:
        shutil.copy(real_dir / name, tmp_path / name)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    with pytest.raises(data.DatasetError, match="train-labels-idx1-ubyte.gz"):
        data.find_local_dir()
    with pytest.raises(data.DatasetError, match="train-labels-idx1-ubyte.gz"):
        data.load_from_dir(tmp_path)


def test_truncated_file_is_named(real_dir, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    raw = (real_dir / name).read_bytes()
    (tmp_path / name).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(data.DatasetError, match=name):
        data.read_idx(tmp_path / name)


def test_corrupted_content_is_detected(real_dir, tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    with gzip.open(real_dir / name, "rb") as handle:
        raw = bytearray(handle.read())
    raw[100] = (raw[100] + 1) % 10  # one wrong label, same size
    with gzip.open(tmp_path / name, "wb") as handle:
        handle.write(bytes(raw))
    with pytest.raises(data.DatasetError, match="checksum"):
        data.read_idx(tmp_path / name)


def test_falls_back_to_keras_download_only_without_local_copy(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "nowhere")
    assert data.find_local_dir() is None
    calls = []

    class FakeDatasets:
        class fashion_mnist:
            @staticmethod
            def load_data():
                calls.append("download")
                return "downloaded"

    import tensorflow.keras as tf_keras

    monkeypatch.setattr(tf_keras, "datasets", FakeDatasets, raising=False)
    assert data.load_fashion_mnist() == "downloaded"
    assert calls == ["download"]
