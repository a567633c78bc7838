"""Classifiers: the XAI-ready 1D-ResNet and the ECG-IMN, safe checkpoints, Optuna tuning and final
training.

``tuning`` and ``training`` are imported on demand (they pull in optuna and scikit-learn), and so is
``randomize`` (the model-randomisation control), by the attribution instances that use it.
"""

from cinexai.models.checkpoint import load_model, resolve_device, save_model
from cinexai.models.imn import IMN
from cinexai.models.resnet import ResNet1d

__all__ = ["IMN", "ResNet1d", "load_model", "resolve_device", "save_model"]
