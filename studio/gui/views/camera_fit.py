"""Framing the 3D surface so it fills its panel: in the window (camera presets, resizes)
and in an export, over a whole orbit, without reaching the title, legend or step counter.

`project` puts eye-space points into panel pixels, `fit_distance` finds the nearest
camera distance at which they clear the overlays, and `fit_camera` drives both against the
surface's vertices (`eye_points`), moving the point the camera looks at (`shift_centre`)
until the surface sits in the middle of its room. pyqtgraph's field of view spans the
panel's width, so a narrow panel must not push the camera back.

`auto_camera` (pure NumPy) chooses the angles from which the paths are seen: it scores
candidate azimuths and elevations by how much of every run's path, and its ball, is in
sight of the camera (a ray marched over the height field from each point towards it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QVector3D
from PyQt6.QtWidgets import QWidget

# The world box the 3D view draws a surface in (docs/architecture.md#data-flow): the
# domain's longer side spans WORLD units, the heights 0..Z_HEIGHT, and the camera looks at
# CENTRE_Z above the domain's centre. The view and `auto_camera` share them.
WORLD = 10.0
Z_HEIGHT = 4.0
CENTRE_Z = 0.2 * Z_HEIGHT
FOV = 60.0  # pyqtgraph's default field of view, across the panel's width
AUTO_AZIMUTHS = np.arange(-180.0, 180.0, 15.0)
AUTO_ELEVATIONS = np.array([14.0, 22.0, 32.0, 45.0, 60.0])
AUTO_HOME = (-60.0, 32.0)  # the isometric preset: the choice among equally good angles
AUTO_POINTS = 240  # trail points scored per run (a subsample of long paths)
SEEN_EPS = 0.02  # world units a ray may graze the surface and still see


def orbit_turn(orbit: float, index: int, n_frames: int) -> float:
    """Degrees the camera has turned at frame `index`: 0 at the first frame, the whole
    `orbit` at the last (a one-frame clip stays at the start)."""
    return orbit * index / (n_frames - 1) if n_frames > 1 else 0.0


def project(
    eye: np.ndarray, distance: float, size: tuple[float, float], fov: float
) -> tuple[np.ndarray, np.ndarray]:
    """Panel pixels (x right, y down) of points given in eye coordinates of a camera at
    distance 0, seen from `distance`. pyqtgraph's field of view `fov` spans the width."""
    w, h = size
    tan = math.tan(math.radians(fov) / 2)
    depth = np.maximum(distance - eye[:, 2], 1e-9)
    return w / 2 * (1 + eye[:, 0] / (depth * tan)), h / 2 - eye[:, 1] / (depth * tan) * w / 2


def fit_distance(
    points: list[np.ndarray],
    size: tuple[float, float],
    fov: float,
    keep_out: list[QRectF],
    bounds: QRectF,
    near: float,
    far: float,
) -> float:
    """The nearest camera distance in [near, far] at which every point lies inside `bounds`
    and outside every `keep_out` rectangle (panel pixels, y down).

    `points`: the surface's vertices in eye coordinates of a camera at distance 0, one
    (n, 3) array per azimuth the clip shows (an orbit turns the surface under the
    overlays). The field of view spans the panel's width, so a narrow panel does not crop
    the sides: it only leaves room above and below, and the fit comes closer until the
    width (or the title, legend and step counter) bounds the surface.
    """
    boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in keep_out]

    def fits(distance: float) -> bool:
        for eye in points:
            if (distance - eye[:, 2]).min() <= 1e-6:
                return False
            x, y = project(eye, distance, size, fov)
            if (
                x.min() < bounds.left()
                or x.max() > bounds.right()
                or y.min() < bounds.top()
                or y.max() > bounds.bottom()
            ):
                return False
            for x0, y0, x1, y1 in boxes:
                if np.any((x > x0) & (x < x1) & (y > y0) & (y < y1)):
                    return False
        return True

    # Inside the bounds is a closed form: the distance each point needs, in a few NumPy
    # calls (each waits for the GIL while a simulation runs on the worker thread, so the
    # bisection's hundreds of calls could freeze the window for seconds). The rectangles
    # to keep out, exports only, are then searched from there.
    need = _bounds_distance(points, size, fov, bounds)
    if need is not None:
        near = min(max(near, need), far)
        if not boxes:
            return near
    if not fits(far):
        return far
    if fits(near):
        return near
    lo, hi = near, far  # lo does not fit, hi does
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


def _bounds_distance(
    points: list[np.ndarray], size: tuple[float, float], fov: float, bounds: QRectF
) -> float | None:
    """The nearest distance at which every point projects inside `bounds` (see `project`:
    a point at depth D lands w/2·ex/(D·tan) right of the centre), or None when `bounds`
    leaves out the panel's centre (then no distance may do)."""
    w, h = size
    tan = math.tan(math.radians(fov) / 2)
    right, left = 2 * bounds.right() / w - 1, 1 - 2 * bounds.left() / w
    above, below = (h / 2 - bounds.top()) / (w / 2), (bounds.bottom() - h / 2) / (w / 2)
    if min(right, left, above, below) <= 0:
        return None
    need = -math.inf
    for eye in points:
        ex, ey = eye[:, 0], eye[:, 1]
        depth = np.maximum(np.maximum(ex / right, -ex / left), np.maximum(ey / above, -ey / below))
        need = max(need, float((eye[:, 2] + np.maximum(depth / tan, 1e-6)).max()))
    return need


def fit_camera(
    view: QWidget,
    camera: tuple[float, float, float],
    panel: QRectF,
    overlays: list[QRectF | None],
    title: QRectF | None,
    clearance: float,
    orbit: float,
    apply: bool,
) -> float:
    """Frame the surface in the 3D panel: the camera distance at which it fills the
    panel (over the whole orbit) without reaching the title, legend or step counter,
    and the point it looks at moved so the surface sits in the middle of that room
    (up and down only under an orbit: the camera turns about a vertical axis).

    `camera`: (azimuth, elevation, distance) to fit from; `panel`, `overlays` (the legend
    and step counter; None where not drawn) and `title` in frame pixels, the surface
    kept `clearance` pixels off each. `apply`: leave the view at the fitted camera, else
    only measure (the view's centre is restored).
    """
    az, el, dist = camera
    origin = panel.topLeft()
    keep_out = [
        box.translated(-origin).adjusted(-clearance, -clearance, clearance, clearance)
        for box in overlays
        if box is not None and panel.intersects(box)
    ]
    side, edge = 0.03 * panel.width(), 0.04 * panel.height()
    top = edge
    if title is not None and panel.contains(title.topLeft()):
        top = max(top, title.bottom() - origin.y() + clearance)
    bounds = QRectF(0, 0, panel.width(), panel.height()).adjusted(side, top, -side, -edge)
    size, fov = (panel.width(), panel.height()), float(view.opts["fov"])
    start = QVector3D(view.opts["center"])
    fitted = dist * 1.15
    try:
        for attempt in range(5):
            points = eye_points(view, az, el, orbit)
            if points is None:
                break
            fitted = fit_distance(points, size, fov, keep_out, bounds, 0.4 * dist, 4.0 * dist)
            xy = [project(eye, fitted, size, fov) for eye in points]
            x0, x1 = min(x.min() for x, _ in xy), max(x.max() for x, _ in xy)
            y0, y1 = min(y.min() for _, y in xy), max(y.max() for _, y in xy)
            dx = bounds.center().x() - (x0 + x1) / 2
            dy = bounds.center().y() - (y0 + y1) / 2
            if attempt == 4 or max(abs(dx), abs(dy)) < 1.0:
                break
            shift_centre(view, az, el, fitted, dx, dy, size[0], orbit)
    finally:
        if apply:
            view.set_camera(az, el, fitted)
        else:
            view.opts["center"] = start
    return fitted


def shift_centre(
    view: QWidget,
    az: float,
    el: float,
    distance: float,
    dx: float,
    dy: float,
    width: float,
    orbit: float,
) -> None:
    """Move the camera's centre so the picture moves dx, dy panel pixels."""
    view.set_camera(az, el, distance)
    m = np.array(view.viewMatrix().data(), float).reshape(4, 4).T[:3, :3]
    per_px = 2 * distance * math.tan(math.radians(float(view.opts["fov"])) / 2) / width
    c = view.opts["center"]
    centre = np.array([c.x(), c.y(), c.z()], float)
    if orbit == 0:
        centre += -m[0] * dx * per_px + m[1] * dy * per_px
    elif abs(m[1, 2]) > 0.2:  # world z shows as screen y (not from straight above)
        centre[2] += dy * per_px / m[1, 2]
    view.opts["center"] = QVector3D(*centre)


def eye_points(view: QWidget, az: float, el: float, orbit: float) -> list[np.ndarray] | None:
    """The surface's vertices (and the view's `fit_points()`, if it has them) in eye
    coordinates at distance 0, for each azimuth the clip shows (sampled every 10° of the
    `orbit`)."""
    item = getattr(view, "surface_item", None)
    meshdata = getattr(item, "opts", {}).get("meshdata") if item is not None else None
    vertices = meshdata.vertexes() if meshdata is not None else None
    if vertices is None or len(vertices) == 0:
        return None
    pts = np.asarray(vertices, float)
    extra = getattr(view, "fit_points", None)
    more = extra() if callable(extra) else None
    if more is not None and len(more):
        # What the view draws beside the mesh (its axes and their labels) is framed too.
        pts = np.concatenate([pts, np.asarray(more, float).reshape(-1, 3)])
    pts = pts[np.isfinite(pts).all(1)]
    if len(pts) == 0:
        return None
    n = 1 if orbit == 0 else min(37, max(2, math.ceil(abs(orbit) / 10) + 1))
    saved = view.camera()
    out = []
    try:
        for a in np.linspace(az, az + orbit, n):
            view.set_camera(float(a), el, 1.0)
            m = np.array(view.viewMatrix().data(), float).reshape(4, 4).T
            eye = pts @ m[:3, :3].T + m[:3, 3]
            eye[:, 2] += 1.0  # as seen from distance 0: depth = distance - z
            out.append(eye)
    finally:
        view.set_camera(*saved)
    return out


# ------------------------------------------------------------------------------ auto camera


def eye_matrix(azimuth: float, elevation: float) -> np.ndarray:
    """The rotation of pyqtgraph's view matrix (world → eye) for these angles: rotate
    (elevation − 90)° about x after (azimuth + 90)° about −z."""
    a, e = math.radians(azimuth + 90.0), math.radians(elevation - 90.0)
    rz = np.array(
        [[math.cos(a), math.sin(a), 0.0], [-math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]]
    )
    rx = np.array(
        [[1.0, 0.0, 0.0], [0.0, math.cos(e), -math.sin(e)], [0.0, math.sin(e), math.cos(e)]]
    )
    return rx @ rz


def camera_position(azimuth: float, elevation: float, distance: float) -> np.ndarray:
    """Where pyqtgraph puts the camera (world units), looking at (0, 0, CENTRE_Z)."""
    az, el = math.radians(azimuth), math.radians(elevation)
    return np.array(
        [
            distance * math.cos(el) * math.cos(az),
            distance * math.cos(el) * math.sin(az),
            CENTRE_Z + distance * math.sin(el),
        ]
    )


def _grid_parts(grid: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if hasattr(grid, "xs") and hasattr(grid, "h"):
        return np.asarray(grid.xs, float), np.asarray(grid.ys, float), np.asarray(grid.h, float)
    xs, ys, h = grid
    return np.asarray(xs, float), np.asarray(ys, float), np.asarray(h, float)


def _path_list(trajectories: Any) -> list[np.ndarray]:
    """(m, 2) data points per path, from a (T+1, N, 2) array, a Trajectory (its
    `positions`) or a sequence of (m, 2) arrays."""
    positions = getattr(trajectories, "positions", trajectories)
    if isinstance(positions, np.ndarray) and positions.ndim == 3:
        return [positions[:, n, :] for n in range(positions.shape[1])]
    return [np.asarray(p, float).reshape(-1, 2) for p in positions]


def fit_box_distance(
    azimuth: float, elevation: float, aspect: float, margin: float = 0.06
) -> float:
    """The nearest distance at which the whole world box (domain × heights) fits a
    panel of width/height `aspect`, `margin` of each side left free."""
    half = WORLD / 2
    corners = np.array(
        [(x, y, z) for x in (-half, half) for y in (-half, half) for z in (0.0, Z_HEIGHT)], float
    ) - (0.0, 0.0, CENTRE_Z)
    eye = corners @ eye_matrix(azimuth, elevation).T
    tan = math.tan(math.radians(FOV) / 2) * (1 - 2 * margin)
    # A corner at eye (x, y, z) shows at x / ((d − z) tan) of the half-width and at
    # y / ((d − z) tan) · aspect of the half-height.
    need = np.maximum(np.abs(eye[:, 0]) / tan, np.abs(eye[:, 1]) * aspect / tan) + eye[:, 2]
    return float(max(need.max(), 1.0))


def visible_fraction(
    world: np.ndarray,
    weights: np.ndarray,
    heights: np.ndarray,
    camera: np.ndarray,
    samples: int = 48,
) -> float:
    """The weighted share of world points (M, 3) from which a straight line to `camera`
    stays above the height field `heights` (nx, ny) drawn over the world square."""
    nx, ny = heights.shape
    half = WORLD / 2
    to_cam = camera[None, :] - world
    # March until the ray leaves the box the surface lives in (past its rim or top).
    with np.errstate(divide="ignore", invalid="ignore"):
        exits = [
            np.where(
                to_cam[:, k] > 0,
                (half - world[:, k]) / to_cam[:, k],
                np.where(to_cam[:, k] < 0, (-half - world[:, k]) / to_cam[:, k], np.inf),
            )
            for k in (0, 1)
        ]
        exits.append(np.where(to_cam[:, 2] > 0, (Z_HEIGHT - world[:, 2]) / to_cam[:, 2], np.inf))
    t_max = np.clip(np.min(np.stack(exits), axis=0), 0.0, 1.0)
    t = np.linspace(0.0, 1.0, samples + 1)[1:]
    along = world[:, None, :] + (t[None, :, None] * t_max[:, None, None]) * to_cam[:, None, :]
    i = np.clip(np.rint((along[..., 0] + half) / WORLD * (nx - 1)), 0, nx - 1).astype(np.intp)
    j = np.clip(np.rint((along[..., 1] + half) / WORLD * (ny - 1)), 0, ny - 1).astype(np.intp)
    blocked = (heights[i, j] > along[..., 2] + SEEN_EPS).any(axis=1)
    total = float(weights.sum())
    return float(weights[~blocked].sum() / total) if total > 0 else 1.0


def auto_camera(
    grid: Any,
    trajectories: Any,
    aspect: float = 16 / 9,
    azimuths: Sequence[float] | None = None,
    elevations: Sequence[float] | None = None,
) -> tuple[float, float, float]:
    """(azimuth, elevation, distance) from which the paths are best seen.

    `grid`: the displayed heights, a `HeightMap` or `(xs (nx,), ys (ny,), h (nx, ny))`
    with `h` in display units (0 at the lowest point). `trajectories`: data positions, a
    `Trajectory`, a (T+1, N, 2) array or a sequence of (m, 2) paths. `aspect`: the 3D
    panel's width / height, for the distance.

    Each candidate angle is scored by the share of each path's points (half the path's
    weight) and of its last point, the ball (the other half), that the camera sees over
    the surface; every path weighs the same, so each run counts whatever its length.
    Among angles within 1 % of the best score the one nearest the isometric preset wins
    (a familiar view when several see everything). The distance fits the whole surface
    into the panel; a renderer that frames the surface itself may ignore it.
    """
    xs, ys, h = _grid_parts(grid)
    azimuths = AUTO_AZIMUTHS if azimuths is None else np.asarray(azimuths, float)
    elevations = AUTO_ELEVATIONS if elevations is None else np.asarray(elevations, float)
    home = AUTO_HOME
    if h.size == 0 or xs.size < 2 or ys.size < 2:
        return (home[0], home[1], fit_box_distance(home[0], home[1], aspect))
    xmin, xmax, ymin, ymax = float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])
    scale = WORLD / max(xmax - xmin, ymax - ymin, 1e-12)
    h_max = float(np.nanmax(h)) if np.isfinite(h).any() else 1.0
    z_scale = Z_HEIGHT / max(h_max, 1e-12)
    heights = np.nan_to_num(h, nan=h_max) * z_scale
    # The world square is [-WORLD/2, WORLD/2]² along the longer side; a shorter side is
    # resampled onto it so (i, j) indexing matches world coordinates.
    fx = ((xs - (xmin + xmax) / 2) * scale + WORLD / 2) / WORLD
    fy = ((ys - (ymin + ymax) / 2) * scale + WORLD / 2) / WORLD
    n = max(xs.size, ys.size)
    u = np.linspace(0.0, 1.0, n)
    ii = np.clip(np.searchsorted(fx, u), 0, xs.size - 1)
    jj = np.clip(np.searchsorted(fy, u), 0, ys.size - 1)
    inside = ((u >= fx[0] - 1e-9) & (u <= fx[-1] + 1e-9))[:, None] & (
        (u >= fy[0] - 1e-9) & (u <= fy[-1] + 1e-9)
    )[None, :]
    square = np.where(inside, heights[np.ix_(ii, jj)], 0.0)

    points, weights = [], []
    for path in _path_list(trajectories):
        ok = (
            np.isfinite(path).all(axis=1)
            & (path[:, 0] >= xmin)
            & (path[:, 0] <= xmax)
            & (path[:, 1] >= ymin)
            & (path[:, 1] <= ymax)
        )
        kept = path[ok]
        if len(kept) == 0:
            continue
        trail = kept[
            np.unique(
                np.linspace(0, len(kept) - 1, min(len(kept), AUTO_POINTS)).round().astype(int)
            )
        ]
        pts = np.concatenate([trail, kept[-1:]])
        w = np.concatenate([np.full(len(trail), 0.5 / len(trail)), [0.5]])
        points.append(pts)
        weights.append(w)
    if not points:
        return (home[0], home[1], fit_box_distance(home[0], home[1], aspect))
    xy = np.concatenate(points)
    wts = np.concatenate(weights)
    i = np.clip(np.rint((xy[:, 0] - xs[0]) / (xs[-1] - xs[0]) * (xs.size - 1)), 0, xs.size - 1)
    j = np.clip(np.rint((xy[:, 1] - ys[0]) / (ys[-1] - ys[0]) * (ys.size - 1)), 0, ys.size - 1)
    world = np.column_stack(
        [
            (xy[:, 0] - (xmin + xmax) / 2) * scale,
            (xy[:, 1] - (ymin + ymax) / 2) * scale,
            heights[i.astype(np.intp), j.astype(np.intp)] + 0.06,
        ]
    )

    best: list[tuple[float, float, float]] = []
    for el in elevations:
        for az in azimuths:
            cam = camera_position(float(az), float(el), 17.0)
            best.append((visible_fraction(world, wts, square, cam), float(az), float(el)))
    top = max(score for score, _, _ in best)

    def off_home(az: float, el: float) -> float:
        turn = abs((az - home[0] + 180.0) % 360.0 - 180.0)
        return turn / 180.0 + abs(el - home[1]) / 90.0

    _, az, el = min((c for c in best if c[0] >= top - 0.01), key=lambda c: off_home(c[1], c[2]))
    return (az, el, fit_box_distance(az, el, aspect))
