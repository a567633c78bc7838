"""Time-localised latent clusters with uncertainty (Boubekki et al. 2025) as an explanation family.

``latent``: residual-block activations per timestamp, the soft-assignment clusterer and the forest,
held as plain arrays; ``store``: their atomic ``.npz`` + SHA-256 file; ``fit``: the fit stage
(training split only); ``landmarks``: true wave labels per timestamp and their AMI with the
clusters; ``fidelity``: forest-CNN agreement, landmark alignment, the fidelity table.  The
explanation itself is the registered method :mod:`cinexai.attribution.latent_clusters`.
"""
