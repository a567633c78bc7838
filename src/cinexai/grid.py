"""The grid's shared concepts, defined once: sources, architectures and which method runs where.

Every stage (rules, scoring, tables, figures, attribution) reads these facts from here instead of
spelling source names out:

* a :class:`Source` is what an attribution file explains: the signal file its model reads
  (``windows`` or ``cineecg``), the model modality, its channels, the annotation modality that
  scores it (its *target*) and whether it is mapped from the 12-lead attribution (Eq. 2);
* an *architecture* is a named entry of ``models.architectures`` (its Optuna search space): every
  modality is tuned and trained once per architecture, and every source is attributed per
  architecture;
* a registered method may be restricted to some architectures (:data:`METHOD_ARCHITECTURES`):
  ``imn_weights`` reads the IMN's generated weights, ``latent_clusters`` the ResNet's residual
  blocks.  An instance may narrow its architectures with its ``architectures:`` key; naming one
  where its method is undefined is a config error naming the instance and the architecture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cinexai.leads import CINE_CHANNELS, LEADS

#: Signal file kinds: ``{RES}/data/{kind}.parquet``.
SIGNAL_FILES = ("windows", "cineecg")
#: Registered architectures (``models.architectures`` keys must be among them).
ARCHITECTURES = ("resnet", "imn")
#: Registered methods defined only on some architectures (others run on every architecture).
METHOD_ARCHITECTURES: dict[str, tuple[str, ...]] = {
    "imn_weights": ("imn",),
    "latent_clusters": ("resnet",),
}
#: Methods that read the model's own explanation (no post-hoc approximation).
INTRINSIC_METHODS = ("imn_weights",)


@dataclass(frozen=True)
class Source:
    """What one attribution file explains and what scores it."""

    name: str
    signals: str  # signal file kind the model reads: windows | cineecg
    modality: str  # the model (``models/{modality}/{arch}``) whose attributions these are
    channels: tuple[str, ...]  # channels of the attribution file
    target: str  # annotation modality that scores it
    mapped: bool  # derived from the 12-lead attribution by Eq. 2 (not attributed directly)
    title: str  # figure and table label


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("ecg12", "windows", "ecg12", tuple(LEADS), "ecg12", False, "12-Lead Attr."),
        Source("cineecg", "cineecg", "cineecg", tuple(CINE_CHANNELS), "cineecg", False,
               "CineECG Attr."),
        Source("mapped", "windows", "ecg12", tuple(CINE_CHANNELS), "cineecg", True,
               "12-Lead (Mapped)"),
    )
}  # fmt: skip
#: The 12-lead source: the mapped source's origin (Eq. 2) and what clinical-grid figures draw.
ECG12 = "ecg12"
#: The CineECG trajectory source (drawn in the 3D figures).
CINEECG = "cineecg"
#: The mapped source (Eq. 2: the 12-lead attribution summed over leads onto x, y, z).
MAPPED = "mapped"
#: Annotation modalities (targets), in table order, with their table labels.
TARGETS = {"cineecg": "CineECG Signal", "ecg12": "12-Lead Signal"}
#: Model modality -> signal file kind.
MODALITY_SIGNALS = {s.modality: s.signals for s in SOURCES.values() if not s.mapped}


def source(name: str) -> Source:
    """The source ``name``; ValueError lists the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown attribution source {name!r}; known: {sorted(SOURCES)}") from None


def target_of(name: str) -> str:
    """Annotation modality that scores source ``name``."""
    return source(name).target


def attributed_sources(config: Mapping[str, Any]) -> list[str]:
    """Sources attributed directly with their own model (``attribution.sources``)."""
    return list(config["attribution"]["sources"])


def scored_sources(config: Mapping[str, Any]) -> list[str]:
    """Every scored source: the attributed ones plus ``mapped`` when ``attribution.mapped``."""
    mapped = (
        [s.name for s in SOURCES.values() if s.mapped] if config["attribution"]["mapped"] else []
    )
    return attributed_sources(config) + mapped


def sources_of_target(config: Mapping[str, Any], target: str) -> list[str]:
    """The scored sources whose attributions ``target`` annotations score."""
    return [s for s in scored_sources(config) if SOURCES[s].target == target]


def targets(config: Mapping[str, Any]) -> list[str]:
    """Annotation modalities with at least one scored source, in table order."""
    present = {SOURCES[s].target for s in scored_sources(config)}
    return [t for t in TARGETS if t in present]


def architectures(config: Mapping[str, Any]) -> list[str]:
    """Configured architectures (``models.architectures`` keys), in config order."""
    return list(config["models"]["architectures"])


def search_space(config: Mapping[str, Any], arch: str) -> dict[str, Any]:
    """The Optuna search space of ``arch`` (``models.architectures.{arch}``)."""
    return dict(config["models"]["architectures"][arch])


def method_architectures(registered: str) -> tuple[str, ...]:
    """Architectures a registered method is defined on."""
    return METHOD_ARCHITECTURES.get(registered, ARCHITECTURES)


def instance_architectures(
    name: str, entry: Mapping[str, Any] | None, config: Mapping[str, Any]
) -> list[str]:
    """Configured architectures method instance ``name`` runs on (config order).

    ``entry["architectures"]`` (optional) narrows them.  Raises ValueError naming the instance and
    the architecture when the instance names one its method is not defined on, or one that is not
    configured.
    """
    from cinexai.attribution.registry import resolve

    registered, _ = resolve(name, entry)
    allowed = method_architectures(registered)
    configured = architectures(config)
    asked = (entry or {}).get("architectures")
    if asked is None:
        return [a for a in configured if a in allowed]
    for arch in asked:
        if arch not in allowed:
            raise ValueError(
                f"methods.{name}.architectures: method {registered!r} is only defined for "
                f"architecture(s) {list(allowed)}, not {arch!r}"
            )
        if arch not in configured:
            raise ValueError(
                f"methods.{name}.architectures: {arch!r} is not in models.architectures "
                f"{configured}"
            )
    return [a for a in configured if a in asked]


def grid_instances(config: Mapping[str, Any], arch: str) -> list[str]:
    """Method instances that run on architecture ``arch``."""
    methods = config["methods"]
    return [m for m in methods if arch in instance_architectures(m, methods[m], config)]


def check_grid(config: Mapping[str, Any]) -> None:
    """Architectures are registered and every instance runs on at least one; ValueError names the
    key, the instance and the architecture."""
    for arch in architectures(config):
        if arch not in ARCHITECTURES:
            raise ValueError(
                f"models.architectures: unknown architecture {arch!r}; registered: "
                f"{list(ARCHITECTURES)}"
            )
    for name, entry in config["methods"].items():
        if not instance_architectures(name, entry, config):
            from cinexai.attribution.registry import resolve

            registered, _ = resolve(name, entry)
            raise ValueError(
                f"methods.{name}: method {registered!r} is only defined for architecture(s) "
                f"{list(method_architectures(registered))}, none of which is in "
                f"models.architectures {architectures(config)}"
            )
