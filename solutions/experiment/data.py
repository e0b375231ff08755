"""Fashion-MNIST with the notebook's preprocessing, cut to a configuration's subsets."""

from __future__ import annotations

import functools

import numpy as np

from .config import Config

_DATA_CACHE: dict = {}


@functools.lru_cache(maxsize=1)
def _split(data_seed: int):
    """The 80/20 split of the training images and the scaler fitted on its 80 %."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from autograder.public.data import load_fashion_mnist

    (x_full, y_full), (x_test, y_test) = load_fashion_mnist()
    x_train, x_val, y_train, y_val = train_test_split(
        x_full, y_full, train_size=0.8, random_state=data_seed
    )
    scaler = StandardScaler()
    scaler.fit(x_train.astype(np.float32).reshape(-1, 28 * 28))
    return x_train, y_train, x_val, y_val, x_test, y_test, scaler


def load_data(cfg: Config):
    """The notebook's preprocessing, then fixed subsets.

    80/20 ``train_test_split`` of the 60,000 training images (seeded by
    ``cfg.data_seed``), ``StandardScaler`` fitted on the 80 % split, then the
    first ``train_size`` / ``val_size`` / ``test_size`` images of each part.

    Args:
        cfg: the configuration.

    Returns:
        dict with ``x_train, y_train, x_val, y_val, x_test, y_test``
        (float32 images of shape (n, 28, 28, 1), uint8 labels).
    """
    key = (cfg.data_seed, cfg.train_size, cfg.val_size, cfg.test_size)
    if key in _DATA_CACHE:
        return _DATA_CACHE[key]
    x_train, y_train, x_val, y_val, x_test, y_test, scaler = _split(cfg.data_seed)

    def prep(x):
        if not len(x):
            return np.zeros((0, 28, 28, 1), np.float32)
        return (
            scaler.transform(x.astype(np.float32).reshape(-1, 28 * 28))
            .astype(np.float32)
            .reshape(-1, 28, 28, 1)
        )

    n_test = cfg.test_size or len(x_test)
    data = {
        "x_train": prep(x_train[: cfg.train_size]),
        "y_train": y_train[: cfg.train_size],
        "x_val": prep(x_val[: cfg.val_size]),
        "y_val": y_val[: cfg.val_size],
        "x_test": prep(x_test[:n_test]),
        "y_test": y_test[:n_test],
    }
    _DATA_CACHE.clear()
    _DATA_CACHE[key] = data
    return data
