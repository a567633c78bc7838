"""cinexai: an open, reproducible experiment grid for cross-modal ECG explainability."""

__version__ = "0.1.0"
