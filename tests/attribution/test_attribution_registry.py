"""Registry, module lookup and resolution of named config instances."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from cinexai.attribution import registry

METHODS = {"integrated_gradients", "gradient_shap", "kernel_shap", "lime", "random"}


def test_all_methods_registered_and_modules_define_them() -> None:
    assert set(registry.available()) >= METHODS
    for name in registry.available():
        module = importlib.import_module(registry.module_of(name))
        assert inspect.getsource(registry.get(name).fn) in inspect.getsource(module)
    assert registry.module_of("lime") == "cinexai.attribution.lime_method"
    assert registry.module_of("random") != registry.module_of("lime")


def test_resolve_defaults_to_instance_name_and_merges_defaults() -> None:
    name, params = registry.resolve("integrated_gradients", {"n_steps": 7})
    assert name == "integrated_gradients"
    assert params["n_steps"] == 7 and params["nt_samples"] == 40 and params["baseline"] == "zero"


def test_resolve_named_instance_with_method_and_model_keys() -> None:
    cfg = {"method": "integrated_gradients", "model": "randomized", "baseline": "reference_mean"}
    name, params = registry.resolve("ig_control", cfg)
    assert name == "integrated_gradients"
    assert params["baseline"] == "reference_mean"
    assert "method" not in params and "model" not in params
    assert registry.model_variant(cfg) == "randomized"
    assert registry.model_variant({}) == "trained"


def test_resolve_errors_name_the_instance() -> None:
    with pytest.raises(KeyError, match="methods.foo.*unknown attribution method 'foo'"):
        registry.resolve("foo", {})
    with pytest.raises(ValueError, match=r"methods.lime2: unknown parameter\(s\) \['n_steps'\]"):
        registry.resolve("lime2", {"method": "lime", "n_steps": 3})
    with pytest.raises(ValueError, match="methods.kernel_shap.model"):
        registry.resolve("kernel_shap", {"model": "shuffled"})


def test_every_default_config_instance_resolves(default_config: dict) -> None:
    for instance, cfg in default_config["methods"].items():
        name, params = registry.resolve(instance, cfg)
        assert name in registry.available()
        assert set(params) == set(registry.get(name).defaults)


def test_register_twice_from_another_module_is_an_error() -> None:
    def attribute(forward, x, ctx, target):
        return x

    with pytest.raises(ValueError, match="registered twice"):
        registry.register("lime")(attribute)
    assert registry.module_of("lime") == "cinexai.attribution.lime_method"


def test_parameter_checks_reject_bad_values_naming_the_key() -> None:
    with pytest.raises(registry.ParamError) as info:
        registry.resolve("my_lime", {"method": "lime", "num_samples": -5})
    assert info.value.key == "methods.my_lime.num_samples"
    assert info.value.reason == "must be a positive integer, got -5"
    name, params = registry.resolve("my_lime", {"method": "lime", "num_features": "all"})
    assert params["num_features"] == "all"


def test_every_method_declares_a_check_for_every_parameter() -> None:
    for name in registry.available():
        spec = registry.get(name)
        assert set(spec.params) == set(spec.defaults), name
        for key, value in spec.defaults.items():  # the defaults pass their own checks
            assert spec.params[key](value) is None, (name, key, value)


def test_register_rejects_a_check_without_a_default() -> None:
    with pytest.raises(ValueError, match=r"without a default \['n'\]"):
        registry.register("nothing", {}, params={"n": registry.integer(1)})


def test_a_number_given_as_a_string_is_explained() -> None:
    with pytest.raises(registry.ParamError, match="snakemake --config passes nested values"):
        registry.resolve("lime", {"num_samples": "100"})


def test_declarations_are_read_without_importing_the_method_modules() -> None:
    """Resolving every method imports none of them, nor torch, captum, shap, lime or sklearn."""
    code = (
        "import sys\n"
        "from cinexai.attribution import registry\n"
        "for name in registry.available():\n"
        "    registry.resolve(name, {})\n"
        "heavy = ('torch', 'captum', 'shap', 'lime', 'sklearn', 'cinexai.attribution.lime_method',\n"
        "         'cinexai.attribution.imn_weights', 'cinexai.models.imn')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_read_declarations_equal_the_registered_ones() -> None:
    for name in registry.available():
        declared = registry.get(name)
        module = importlib.import_module(declared.module)
        (read,) = [s for s in registry.declarations(Path(module.__file__), module.__name__)]
        assert (read.name, read.defaults, read.model_free, read.intrinsic) == (
            name,
            declared.defaults,
            declared.model_free,
            declared.intrinsic,
        )
        assert set(read.params) == set(declared.params)
        for key, value in read.defaults.items():
            assert read.params[key](value) is None and declared.params[key](value) is None


def test_a_declaration_that_needs_an_import_is_an_error_naming_the_module(tmp_path) -> None:
    path = tmp_path / "heavy_method.py"
    path.write_text(
        "import torch\n"
        "from cinexai.attribution.registry import register\n"
        "@register('heavy', {'n': torch.ones(1)})\n"
        "def attribute(forward, x, ctx, target):\n"
        "    return x\n"
    )
    with pytest.raises(ValueError, match=r"pkg\.heavy_method: @register.*torch\.ones"):
        registry.declarations(path, "pkg.heavy_method")


def test_checks_of_any_of_and_matches() -> None:
    l1 = registry.get("kernel_shap").params["l1_reg"]
    assert [l1(v) for v in (False, None, 0, 0.5, "AIC", "num_features(3)")] == [None] * 6
    assert l1("num_features(x)").startswith("must be false, a number >= 0")
    assert l1(True) is not None and l1(-1) is not None
    assert registry.matches("a+")("b") == "must match 'a+'"


def test_instance_modules_name_the_method_and_the_model_variant() -> None:
    assert registry.instance_modules("lime", {}) == ["cinexai.attribution.lime_method"]
    assert registry.instance_modules(
        "ig_random", {"method": "integrated_gradients", "model": "randomized"}
    ) == ["cinexai.attribution.integrated_gradients", "cinexai.models.randomize"]


def test_the_imns_intrinsic_method_is_read_from_source_with_its_keywords() -> None:
    """``intrinsic=True`` and the instance's ``architectures`` key need no import; the IMN's
    re-initialised hypernetwork control goes through the randomisation module like any other."""
    spec = registry.get("imn_weights")
    assert spec.intrinsic and not registry.get("integrated_gradients").intrinsic
    cfg = {"method": "imn_weights", "model": "randomized", "architectures": ["imn"]}
    assert registry.resolve("imn_rnd", cfg) == ("imn_weights", {"read": "contribution"})
    assert registry.instance_modules("imn_rnd", cfg) == [
        "cinexai.attribution.imn_weights",
        "cinexai.models.randomize",
    ]
