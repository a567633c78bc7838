"""Attribution grid: registered methods (IG, GradientSHAP, KernelSHAP, LIME, random control),
Eq. 1 (bipolar Phi) and Eq. 2 (12-lead -> CineECG mapping).

Methods register themselves when :mod:`cinexai.attribution.registry` first imports the package's
modules; see :func:`cinexai.attribution.registry.available`.
"""

from cinexai.attribution.registry import available, get, module_of, register, resolve

__all__ = ["available", "get", "module_of", "register", "resolve"]
