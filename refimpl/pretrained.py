"""Trained models that ship with the package (``refimpl/data/*_params.npz``), and the file format.

A file is written by ``Model.save`` (``refimpl.models.base``): one array per parameter under its
``params`` name, a ``__model__`` entry (JSON: the model's registered name, its ``config()`` and an
``info`` dict with the training settings, the data it saw and the errors the training script
measured), and two extra arrays ``train_idx`` (n_train,) and ``val_idx`` (n_val,): the configurations
of the dataset used to fit and to choose the model; every other configuration is held out.
``load_trained(path)`` reads any such file, whatever the model.

``schnet_ethanol_params.npz`` is written by ``tools/train_schnet_ethanol.py`` (SchNet trained on
energies and forces of the shipped ethanol set, ``refimpl.data.md17.load_ethanol``).
"""
import numpy as np

from refimpl.data.datasets import data_path
from refimpl.models import base
from refimpl.models import schnet  # noqa: F401  (registers the shipped model's class)

SCHNET_ETHANOL = "schnet_ethanol_params.npz"


def save_trained(path, model, train_idx, val_idx, info):
    """Write ``model`` with its training split and ``info`` (a JSON-able dict) to ``path`` (.npz)."""
    split = {"train_idx": np.asarray(train_idx, dtype=np.int64), "val_idx": np.asarray(val_idx, dtype=np.int64)}
    model.save(path, arrays=split, info=info)


def load_trained(path):
    """Read a file written by ``save_trained``: returns (model, train_idx, val_idx, config).

    config is the model's ``config()`` plus ``"info"``. Raises ValueError for a file that is not such a
    file, or whose parameters are missing or do not fit the stored config.
    """
    model, arrays, info = base.load(path)
    missing = [k for k in ("train_idx", "val_idx") if k not in arrays]
    if missing:
        raise ValueError(f"path: {path} lacks {missing} (not written by save_trained)")
    return model, arrays["train_idx"], arrays["val_idx"], model.config() | {"info": info}


def load_schnet_ethanol():
    """The shipped SchNet for ethanol: (model, train_idx, val_idx, config); see the module docstring."""
    return load_trained(data_path(SCHNET_ETHANOL))
