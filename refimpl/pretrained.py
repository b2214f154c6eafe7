"""Pre-trained model parameters that ship with the package (``refimpl/data/*_params.npz``).

``schnet_ethanol_params.npz`` is written by ``tools/train_schnet_ethanol.py`` (SchNet trained on
energies and forces of the shipped ethanol set, ``refimpl.data.md17.load_ethanol``). The file holds

- one array per SchNet parameter, under its ``SchNet.params`` name (``embedding``,
  ``interactions.0.filter.0.W``, ..., ``atomref``);
- ``train_idx`` (n_train,) and ``val_idx`` (n_val,): the configurations of the dataset used to fit
  and to choose the model; every other configuration is held out;
- ``config``: a JSON string with the constructor arguments, the training settings, the data it
  saw and the errors measured by the script.
"""
import json

import numpy as np

from refimpl.data.datasets import data_path
from refimpl.models.schnet import SchNet

SCHNET_ETHANOL = "schnet_ethanol_params.npz"
HYPER = ("n_atom_basis", "n_filters", "n_interactions", "n_rbf", "cutoff", "max_z")


def save_schnet(path, model, train_idx, val_idx, info):
    """Write ``model.params``, the split and ``info`` (a JSON-able dict) to ``path`` (.npz)."""
    config = {k: getattr(model, k) for k in HYPER} | {"info": info}
    np.savez(path, **model.params, train_idx=np.asarray(train_idx, dtype=np.int64),
             val_idx=np.asarray(val_idx, dtype=np.int64), config=np.array(json.dumps(config)))


def load_schnet(path):
    """Read a file written by ``save_schnet``: returns (model, train_idx, val_idx, config dict).

    Raises ValueError if a parameter is missing or has the wrong shape for the stored sizes.
    """
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    if "config" not in arrays:
        raise ValueError(f"path: {path} has no 'config' entry (not written by save_schnet)")
    config = json.loads(str(arrays.pop("config")))
    model = SchNet(**{k: config[k] for k in HYPER})
    for name, value in model.params.items():
        if name not in arrays:
            raise ValueError(f"path: {path} lacks parameter {name!r}")
        if arrays[name].shape != value.shape:
            raise ValueError(f"path: parameter {name!r} has shape {arrays[name].shape}, expected {value.shape}")
        value[...] = arrays[name]
    return model, arrays["train_idx"], arrays["val_idx"], config


def load_schnet_ethanol():
    """The shipped SchNet for ethanol: (model, train_idx, val_idx, config); see the module docstring."""
    return load_schnet(data_path(SCHNET_ETHANOL))
