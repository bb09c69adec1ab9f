"""Framing the 3D surface so it fills its panel: in the window (camera presets, resizes)
and in an export, over a whole orbit, without reaching the title, legend or step counter.

`project` puts eye-space points into panel pixels, `fit_distance` finds the nearest
camera distance at which they clear the overlays, and `fit_camera` drives both against the
surface's vertices (`eye_points`), moving the point the camera looks at (`shift_centre`)
until the surface sits in the middle of its room. pyqtgraph's field of view spans the
panel's width, so a narrow panel must not push the camera back.
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QVector3D
from PyQt6.QtWidgets import QWidget


def orbit_turn(orbit: float, index: int, n_frames: int) -> float:
    """Degrees the camera has turned at frame `index`: 0 at the first frame, the whole
    `orbit` at the last (a one-frame clip stays at the start)."""
    return orbit * index / (n_frames - 1) if n_frames > 1 else 0.0


def project(eye: np.ndarray, distance: float, size: tuple[float, float],
            fov: float) -> tuple[np.ndarray, np.ndarray]:
    """Panel pixels (x right, y down) of points given in eye coordinates of a camera at
    distance 0, seen from `distance`. pyqtgraph's field of view `fov` spans the width."""
    w, h = size
    tan = math.tan(math.radians(fov) / 2)
    depth = np.maximum(distance - eye[:, 2], 1e-9)
    return w / 2 * (1 + eye[:, 0] / (depth * tan)), h / 2 - eye[:, 1] / (depth * tan) * w / 2


def fit_distance(points: list[np.ndarray], size: tuple[float, float], fov: float,
                 keep_out: list[QRectF], bounds: QRectF, near: float, far: float) -> float:
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
            if (x.min() < bounds.left() or x.max() > bounds.right()
                    or y.min() < bounds.top() or y.max() > bounds.bottom()):
                return False
            for x0, y0, x1, y1 in boxes:
                if np.any((x > x0) & (x < x1) & (y > y0) & (y < y1)):
                    return False
        return True

    if not fits(far):
        return far
    if fits(near):
        return near
    lo, hi = near, far  # lo does not fit, hi does
    while hi - lo > 1e-3 * hi:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


def fit_camera(view: QWidget, camera: tuple[float, float, float], panel: QRectF,
               overlays: list[QRectF | None], title: QRectF | None, clearance: float,
               orbit: float, apply: bool) -> float:
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
    keep_out = [box.translated(-origin).adjusted(-clearance, -clearance, clearance, clearance)
                for box in overlays if box is not None and panel.intersects(box)]
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
            fitted = fit_distance(points, size, fov, keep_out, bounds,
                                  0.4 * dist, 4.0 * dist)
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


def shift_centre(view: QWidget, az: float, el: float, distance: float,
                 dx: float, dy: float, width: float, orbit: float) -> None:
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
    """The surface's vertices in eye coordinates at distance 0, for each azimuth the
    clip shows (sampled every 10° of the `orbit`)."""
    item = getattr(view, "surface_item", None)
    meshdata = getattr(item, "opts", {}).get("meshdata") if item is not None else None
    vertices = meshdata.vertexes() if meshdata is not None else None
    if vertices is None or len(vertices) == 0:
        return None
    pts = np.asarray(vertices, float)
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
