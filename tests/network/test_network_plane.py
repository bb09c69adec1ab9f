"""Landscape planes: PCA of synthetic paths, filter normalisation, and the chunked loss grid."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import StudioError
from studio.network.model import NetworkObjective, NetworkSpec, layer_slices, unflatten
from studio.network.plane import (
    Plane,
    PlaneError,
    filter_normalise,
    grid_axes,
    loss_grid,
    pca_plane,
    random_plane,
)


def _orthonormal(d: int, k: int, seed: int) -> np.ndarray:
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))[0]
    return q.T


@pytest.mark.parametrize(("steps", "runs", "dim"), [(50, 3, 400), (400, 5, 120)])
def test_pca_recovers_known_directions(steps: int, runs: int, dim: int) -> None:
    # Paths in a known 3-D subspace through θ₀, mostly along u1, then u2, a little u3.
    # (50 × 3 rows < 400 parameters and 400 × 5 rows > 120 take the two branches.)
    u = _orthonormal(dim, 3, 0)
    rng = np.random.default_rng(1)
    theta0 = rng.standard_normal(dim)
    t = np.linspace(0.0, 1.0, steps + 1)[:, None]
    coef = np.stack(
        [
            5.0 * t * rng.uniform(0.5, 1.5, runs),
            -2.0 * np.sin(3 * t) * rng.uniform(0.5, 1.5, runs),
            0.3 * t**2 * rng.uniform(0.5, 1.5, runs),
        ],
        axis=-1,
    )  # (T, runs, 3)
    paths = theta0 + coef @ u
    plane = pca_plane(paths)
    np.testing.assert_array_equal(plane.origin, theta0)
    assert plane.kind == "pca"
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    # The exact answer: the SVD of the stacked displacements.
    a = (paths - theta0).reshape(-1, dim)
    _, sv, vt = np.linalg.svd(a, full_matrices=False)
    for i in range(2):
        assert abs(plane.directions[i] @ vt[i]) == pytest.approx(1.0, abs=1e-9)
    expected = sv[:2] ** 2 / np.sum(sv**2)
    assert plane.explained is not None
    assert plane.explained == pytest.approx(tuple(expected), rel=1e-9)
    assert plane.explained[0] > 0.8 and sum(plane.explained) > 0.99
    # Both directions lie in span(u1, u2, u3), and almost wholly in span(u1, u2): the plane
    # is the one the paths were drawn in, up to their small u3 part.
    np.testing.assert_allclose(np.linalg.norm(plane.directions @ u.T, axis=1), 1.0, atol=1e-9)
    assert np.all(np.linalg.norm(plane.directions @ u[:2].T, axis=1) > 0.99)
    # Signed so the paths' mean coordinate is positive; coordinates are dot products.
    coords = plane.project(paths)
    assert coords.shape == (steps + 1, runs, 2)
    assert np.all(coords.reshape(-1, 2).mean(axis=0) > 0)
    np.testing.assert_allclose(coords, (paths - theta0) @ plane.directions.T, atol=1e-10)
    assert plane.axis_labels()[0] == f"PC1 {100 * expected[0]:.0f}%"


def test_pca_of_a_straight_line_and_of_no_movement() -> None:
    u = _orthonormal(30, 1, 2)[0]
    paths = np.linspace(0, 1, 11)[:, None, None] * u  # (11, 1, 30), origin 0
    plane = pca_plane(paths)
    assert abs(plane.directions[0] @ u) == pytest.approx(1.0)
    assert plane.directions[1] @ plane.directions[0] == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(plane.directions[1]) == pytest.approx(1.0)
    assert plane.explained == pytest.approx((1.0, 0.0), abs=1e-12)
    with pytest.raises(PlaneError, match="no run moves") as info:
        pca_plane(np.ones((5, 2, 30)))
    assert isinstance(info.value, StudioError) and "\n" not in str(info.value)
    bad = paths.copy()
    bad[-1, 0, 0] = np.inf
    with pytest.raises(PlaneError, match="non-finite"):
        pca_plane(bad)


def test_pca_of_a_spread_spectrum_matches_svd() -> None:
    # A slowly falling spectrum (the iterative eigensolver's hard case) on a wide matrix.
    rng = np.random.default_rng(5)
    rows = rng.standard_normal((300, 90)) * np.linspace(1.0, 0.8, 90)
    plane = pca_plane(rows, origin=np.zeros(90))
    _, sv, vt = np.linalg.svd(rows, full_matrices=False)
    for i in range(2):
        assert abs(plane.directions[i] @ vt[i]) == pytest.approx(1.0, abs=1e-6)
    assert plane.explained == pytest.approx(tuple(sv[:2] ** 2 / np.sum(sv**2)), rel=1e-9)


def test_project_and_point_are_inverse_on_a_skew_plane() -> None:
    rng = np.random.default_rng(3)
    plane = Plane(rng.standard_normal(12), rng.standard_normal((2, 12)), "random")
    coords = rng.standard_normal((4, 5, 2))
    np.testing.assert_allclose(plane.project(plane.point(coords)), coords, atol=1e-12)
    assert plane.axis_labels() == ("random 1", "random 2")


def test_filter_normalisation_matches_each_units_norm() -> None:
    spec = NetworkSpec(hidden=(7, 5), task="digits")
    rng = np.random.default_rng(4)
    reference = rng.standard_normal(spec.n_params)
    direction = filter_normalise(rng.standard_normal(spec.n_params) * 3, reference, spec)
    for (w, b), (w_ref, _) in zip(
        unflatten(direction, spec), unflatten(reference, spec), strict=True
    ):
        np.testing.assert_allclose(np.linalg.norm(w, axis=0), np.linalg.norm(w_ref, axis=0))
        assert np.all(b == 0.0)
    assert len(layer_slices(spec)) == 3


def test_random_plane_is_seeded_and_filter_normalised() -> None:
    obj = NetworkObjective(NetworkSpec())
    theta0 = obj.initial_params()
    a, b = random_plane(obj.spec, theta0, seed=3), random_plane(obj.spec, theta0, seed=3)
    np.testing.assert_array_equal(a.directions, b.directions)
    assert not np.array_equal(a.directions, random_plane(obj.spec, theta0, seed=4).directions)
    assert a.kind == "random" and a.explained is None
    for d in a.directions:
        for (w, _), (w0, _) in zip(
            unflatten(d, obj.spec), unflatten(theta0, obj.spec), strict=True
        ):
            np.testing.assert_allclose(np.linalg.norm(w, axis=0), np.linalg.norm(w0, axis=0))
    with pytest.raises(PlaneError, match="all zero"):
        random_plane(obj.spec, np.zeros(obj.dim))


def test_loss_grid_chunks_equal_one_pass_and_direct_losses() -> None:
    obj = NetworkObjective(NetworkSpec(hidden=(6, 4)))
    plane = random_plane(obj.spec, obj.initial_params(), seed=1)
    xs, ys = np.linspace(-1.0, 1.0, 9), np.linspace(-1.0, 2.0, 7)
    seen: list[tuple[int, int]] = []
    chunked = loss_grid(obj, plane, xs, ys, chunk=5, progress=lambda d, t: seen.append((d, t)))
    whole = loss_grid(obj, plane, xs, ys, chunk=10_000)
    assert chunked.shape == (9, 7)
    np.testing.assert_allclose(chunked, whole, rtol=1e-13)
    assert seen[-1] == (63, 63) and len(seen) == 13 and all(t == 63 for _, t in seen)
    i, j = 7, 2  # indexing "ij": [i, j] is (xs[i], ys[j])
    direct = obj.loss(
        (plane.origin + xs[i] * plane.directions[0] + ys[j] * plane.directions[1])[None]
    )
    assert whole[i, j] == pytest.approx(direct[0], rel=1e-13)
    assert whole[4, 2] == pytest.approx(obj.loss(plane.origin[None])[0], rel=1e-12)  # (0, 0)


def test_grid_axes_cover_the_paths_and_the_origin() -> None:
    coords = np.array([[1.0, 2.0], [3.0, 5.0], [np.nan, 0.0]])
    xs, ys = grid_axes(coords, size=21, margin=0.1)
    assert len(xs) == len(ys) == 21
    assert xs[0] < 0.0 and xs[-1] > 3.0 and ys[0] < 0.0 and ys[-1] > 5.0
    assert xs[0] == pytest.approx(-0.3) and ys[-1] == pytest.approx(5.5)
