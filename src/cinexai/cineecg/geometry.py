"""A generic biventricular volume built in code: two truncated ellipsoids, a septum plane, an apex.

Coordinates are the heart-model axes in mm (see :mod:`cinexai.cineecg.constants`):
x from the RV across the septum to the LV free wall, y from base to apex, z = x cross y (from the
anterior toward the inferior wall).  The LV body is the LV ellipsoid on the LV side of the septum
plane (x >= septum_x); the RV body is the RV ellipsoid on the other side; both are cut by the base
plane (y >= base_y).  Each body is convex, so the nearest point of each is exact (a small
active-set enumeration), and the nearest point of the volume is the closer of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from itertools import combinations

import numpy as np
from scipy.spatial import ConvexHull

from cinexai.cineecg import constants as C

_NEWTON_ITERATIONS = 60


def _project_solid_ellipsoid(q: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Nearest point of the centred axis-aligned solid ellipsoid to each row of ``q`` (M, d).

    Outside points solve sum((a q / (a^2 + lam))^2) = 1 for lam >= 0 by Newton's method from
    lam = 0, which converges monotonically (the function is convex and decreasing).
    """
    a2 = axes**2
    outside = ((q / axes) ** 2).sum(-1) > 1.0
    lam = np.zeros(len(q))
    for _ in range(_NEWTON_ITERATIONS):
        w = a2 / (a2 + lam[:, None])
        terms = (w * q / axes) ** 2
        f = terms.sum(-1) - 1.0
        df = -2.0 * (terms / (a2 + lam[:, None])).sum(-1)
        step = np.where(outside, -f / np.minimum(df, -1e-300), 0.0)
        lam = lam + step
        if np.all(np.abs(step) <= 1e-12 * (1.0 + lam)):
            break
    return np.where(outside[:, None], q * a2 / (a2 + lam[:, None]), q)


@dataclass(frozen=True)
class _Body:
    """Axis-aligned solid ellipsoid cut by half-spaces sign * (p[axis] - value) >= 0."""

    center: np.ndarray
    axes: np.ndarray
    halfspaces: tuple[tuple[int, float, float], ...]

    def ellipsoid_value(self, p: np.ndarray) -> np.ndarray:
        return (((p - self.center) / self.axes) ** 2).sum(-1)

    def contains(self, p: np.ndarray, tol: float = C.CONTAINS_TOL) -> np.ndarray:
        ok = self.ellipsoid_value(p) <= 1.0 + tol
        for axis, sign, value in self.halfspaces:
            ok &= sign * (p[..., axis] - value) >= -tol
        return ok

    def project(self, p: np.ndarray) -> np.ndarray:
        """Exact nearest point: try every set of active planes, keep the closest feasible one.

        If the nearest point of the whole ellipsoid satisfies the planes it is the answer (the
        body lies inside the ellipsoid), so the plane sets are tried only for the other points.
        """
        best = self._project_on_slice(p, ())
        todo = ~self.contains(best, tol=1e-9)
        if not todo.any():
            return best
        q = p[todo]
        sub, sub_d = best[todo], np.full(len(q), np.inf)
        for k in range(1, len(self.halfspaces) + 1):
            for active in combinations(self.halfspaces, k):
                cand = self._project_on_slice(q, active)
                d = ((cand - q) ** 2).sum(-1)
                better = self.contains(cand, tol=1e-9) & (d < sub_d)
                sub[better], sub_d[better] = cand[better], d[better]
        best[todo] = sub
        return best

    def _project_on_slice(
        self, p: np.ndarray, active: tuple[tuple[int, float, float], ...]
    ) -> np.ndarray:
        """Fix the coordinates of the active planes, project the rest onto the ellipsoid slice."""
        cand = np.array(p, dtype=float)
        fixed = [axis for axis, _, _ in active]
        free = [i for i in range(3) if i not in fixed]
        shrink = 1.0
        for axis, _, value in active:
            cand[:, axis] = value
            shrink -= ((value - self.center[axis]) / self.axes[axis]) ** 2
        if shrink <= 0:  # the planes miss the ellipsoid: no candidate on this slice
            return np.full_like(cand, np.nan)
        axes = self.axes[free] * np.sqrt(shrink)
        q = _project_solid_ellipsoid(cand[:, free] - self.center[free], axes)
        cand[:, free] = q + self.center[free]
        return cand

    def exit_distance(self, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Distance from an interior ``origin`` to the surface along each unit direction (M, 3)."""
        q = (origin - self.center) / self.axes
        u = directions / self.axes
        a, b, c = (u**2).sum(-1), 2 * (u @ q), q @ q - 1.0
        t = (-b + np.sqrt(b**2 - 4 * a * c)) / (2 * a)
        for axis, sign, value in self.halfspaces:
            rate = sign * directions[:, axis]
            with np.errstate(divide="ignore"):
                t_plane = np.where(rate < 0, sign * (origin[axis] - value) / -rate, np.inf)
            t = np.minimum(t, t_plane)
        return t


def _fibonacci_sphere(n: int) -> np.ndarray:
    """``n`` deterministic, nearly uniform unit vectors."""
    k = np.arange(n) + 0.5
    polar = np.arccos(1 - 2 * k / n)
    azimuth = np.pi * (1 + 5**0.5) * k
    return np.stack(
        [np.cos(azimuth) * np.sin(polar), np.cos(polar), np.sin(azimuth) * np.sin(polar)], axis=-1
    )


@dataclass(frozen=True)
class BiventricularModel:
    """Generic biventricular volume (mm, heart-model axes); defaults from the constants module."""

    lv_center: tuple[float, float, float] = C.LV_CENTER_MM
    lv_semi_axes: tuple[float, float, float] = C.LV_SEMI_AXES_MM
    rv_center: tuple[float, float, float] = C.RV_CENTER_MM
    rv_semi_axes: tuple[float, float, float] = C.RV_SEMI_AXES_MM
    septum_x: float = C.SEPTUM_X_MM
    base_y: float = C.BASE_Y_MM
    p0_long_fraction: float = C.P0_LONG_FRACTION
    landmark_inset: float = C.LANDMARK_INSET_MM
    _bodies: dict[str, _Body] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        base = (1, 1.0, self.base_y)
        bodies = {
            "lv": _Body(
                np.asarray(self.lv_center, float),
                np.asarray(self.lv_semi_axes, float),
                (base, (0, 1.0, self.septum_x)),
            ),
            "rv": _Body(
                np.asarray(self.rv_center, float),
                np.asarray(self.rv_semi_axes, float),
                (base, (0, -1.0, self.septum_x)),
            ),
        }
        object.__setattr__(self, "_bodies", bodies)

    def to_dict(self) -> dict[str, object]:
        """The model's parameters (recorded in output metadata)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def contains(self, points: np.ndarray) -> np.ndarray:
        """True where a point (..., 3) lies in the ventricular volume (surface included)."""
        p = np.asarray(points, dtype=float)
        return self._bodies["lv"].contains(p) | self._bodies["rv"].contains(p)

    def part(self, points: np.ndarray) -> np.ndarray:
        """'lv', 'rv' or '' (outside) for each point (..., 3)."""
        p = np.asarray(points, dtype=float)
        return np.where(
            self._bodies["lv"].contains(p), "lv", np.where(self._bodies["rv"].contains(p), "rv", "")
        )

    def project(self, points: np.ndarray) -> np.ndarray:
        """Nearest point of the volume for each point (..., 3); inside points are returned as is."""
        p = np.asarray(points, dtype=float)
        flat = p.reshape(-1, 3)
        out = flat.copy()
        outside = ~self.contains(flat)
        if outside.any():
            q = flat[outside]
            cands = [body.project(q) for body in self._bodies.values()]
            d = np.stack([((c - q) ** 2).sum(-1) for c in cands])
            out[outside] = np.where((d[0] <= d[1])[:, None], cands[0], cands[1])
        return out.reshape(p.shape)

    @cached_property
    def landmarks(self) -> dict[str, np.ndarray]:
        """Named points, each ``landmark_inset`` mm inside the surface.

        septum (= p0, mid-septum on the LV side), lv_free_wall and rv_free_wall (same height as p0,
        along +x / -x), apex (LV apex on the long axis), base (centre of the LV base).
        """
        lv, rv, inset = self._bodies["lv"], self._bodies["rv"], self.landmark_inset
        apex_y = lv.center[1] + lv.axes[1]
        y0 = self.base_y + self.p0_long_fraction * (apex_y - self.base_y)
        mid = np.array([self.septum_x + inset, y0, lv.center[2]])
        lateral = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
        lv_wall = mid + (lv.exit_distance(mid, lateral[:1])[0] - inset) * lateral[0]
        rv_origin = np.array([rv.center[0], y0, rv.center[2]])
        rv_wall = rv_origin + (rv.exit_distance(rv_origin, lateral[1:])[0] - inset) * lateral[1]
        return {
            "septum": mid,
            "lv_free_wall": lv_wall,
            "rv_free_wall": rv_wall,
            "apex": np.array([lv.center[0], apex_y - inset, lv.center[2]]),
            "base": np.array([lv.center[0], self.base_y + inset, lv.center[2]]),
        }

    @property
    def p0(self) -> np.ndarray:
        """Start point of the trajectory: the 'septum' landmark."""
        return self.landmarks["septum"]

    def surface_mesh(self, part: str, resolution: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """Closed triangulated surface of 'lv' or 'rv': vertices (V, 3) mm, faces (F, 3) int.

        Rays from an interior point along 2 * resolution^2 Fibonacci directions are cut at the
        body's surface (the body is convex, hence star-shaped); faces are the convex hull of the
        directions, oriented outward.
        """
        if part not in self._bodies:
            raise ValueError(f"unknown part {part!r}; expected 'lv' or 'rv'")
        body = self._bodies[part]
        origin = self._interior_point(part)
        dirs = _fibonacci_sphere(2 * resolution**2)
        vertices = origin + body.exit_distance(origin, dirs)[:, None] * dirs
        faces = ConvexHull(dirs).simplices.astype(np.int64)
        tri = dirs[faces]
        normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        flip = (normals * tri.mean(1)).sum(-1) < 0
        faces[flip] = faces[flip][:, ::-1]
        return vertices, faces

    def _interior_point(self, part: str) -> np.ndarray:
        """A point well inside the body: midway between its plane faces and its far surface."""
        body = self._bodies[part]
        lo = np.array(
            [
                self.septum_x if part == "lv" else body.center[0] - body.axes[0],
                self.base_y,
                body.center[2],
            ]
        )
        hi = np.array(
            [
                body.center[0] + body.axes[0] if part == "lv" else self.septum_x,
                body.center[1] + body.axes[1],
                body.center[2],
            ]
        )
        return (lo + hi) / 2
