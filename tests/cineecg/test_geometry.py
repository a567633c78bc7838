"""The biventricular model: membership, exact projection, landmarks, closed meshes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from cinexai.cineecg.constants import ROTATION_FRANK_TO_HEART
from cinexai.cineecg.geometry import BiventricularModel


@pytest.fixture(scope="module")
def model() -> BiventricularModel:
    return BiventricularModel()


def test_rotation_is_proper_and_maps_anatomy(model):
    R = ROTATION_FRANK_TO_HEART
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    # A leftward-posterior Frank force points toward the LV free wall (+x); an inferior one apical.
    assert (R @ [1.0, 0, 1.0])[0] > 0.9
    assert (R @ [0, 1.0, 0])[1] > 0.5


def test_landmarks_inside_and_in_the_right_ventricle(model):
    lm = model.landmarks
    assert {"septum", "lv_free_wall", "rv_free_wall", "apex", "base"} <= set(lm)
    assert model.contains(np.stack(list(lm.values()))).all()
    assert model.part(lm["septum"]) == "lv" and model.part(lm["lv_free_wall"]) == "lv"
    assert model.part(lm["rv_free_wall"]) == "rv"
    assert lm["apex"][1] > lm["septum"][1] > lm["base"][1]
    np.testing.assert_array_equal(model.p0, lm["septum"])


def test_project_is_identity_inside_and_nearest_outside(model):
    rng = np.random.default_rng(1)
    pts = rng.uniform(-70, 100, size=(3000, 3))
    proj = model.project(pts)
    inside = model.contains(pts)
    assert inside.any() and (~inside).any()
    np.testing.assert_array_equal(proj[inside], pts[inside])
    assert model.contains(proj).all()
    # No sampled point of the volume is closer than the projection (grid spacing ~0.6 mm).
    cloud = rng.uniform(-45, 80, size=(400_000, 3))
    cloud = cloud[model.contains(cloud)]
    nearest_sample, _ = cKDTree(cloud).query(pts[~inside])
    assert (np.linalg.norm(proj[~inside] - pts[~inside], axis=1) <= nearest_sample + 1e-9).all()


def test_project_keeps_shape(model):
    pts = np.full((2, 4, 3), 500.0)
    out = model.project(pts)
    assert out.shape == (2, 4, 3) and model.contains(out).all()


@pytest.mark.parametrize("part", ["lv", "rv"])
def test_surface_mesh_is_closed_and_on_the_surface(model, part):
    vertices, faces = model.surface_mesh(part, resolution=12)
    assert vertices.shape[1] == 3 and faces.shape[1] == 3 and faces.dtype.kind == "i"
    # closed: every edge shared by exactly two faces; Euler characteristic of a sphere.
    edges = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert (counts == 2).all()
    assert len(vertices) - len(counts) + len(faces) == 2
    assert model.contains(vertices).all()
    radial = vertices - vertices.mean(0)
    pushed = vertices + 0.5 * radial / np.linalg.norm(radial, axis=1)[:, None]
    assert (model.part(pushed) != part).all()  # 0.5 mm outward leaves this body
    # outward orientation: positive signed volume
    v = vertices[faces]
    assert np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum() > 0


def test_unknown_part_is_named(model):
    with pytest.raises(ValueError, match="septum"):
        model.surface_mesh("septum")
