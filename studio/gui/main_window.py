"""The studio window: the 3D view in the centre, docks for surface, optimizers, map, loss.

The window owns the `Session` and wires menus to it; the views and panels talk to the
session only, never to each other. How the scene is shown (theme, log loss, lower plot,
wireframe, floor contours, trail length, camera) is `session.view_settings`: the menus and
the views' own controls write it, and `_on_view_setting` pushes each change into the views.
Layout and theme persist in QSettings; the `--screenshot` path ignores them so the README
image is reproducible.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PyQt6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from studio.engine import CONVERGED, DIVERGED, STOPPED, run_label
from studio.errors import StudioError
from studio.gui.help import ShortcutsDialog, show_about
from studio.gui.panels.optimizer_panel import OptimizerPanel
from studio.gui.panels.playback_bar import PlaybackBar
from studio.gui.panels.surface_editor import SurfaceEditor
from studio.gui.session import Session
from studio.gui.settings import (
    Camera,
    add_recent_file,
    clear_recent_files,
    recent_files,
    studio_settings,
)
from studio.gui.theme import apply_palette
from studio.gui.views.registry import VIEWS
from studio.resources import asset_path
from studio.scene import Scene, load_scene

APP_NAME = "Descent Studio"
SCENE_FILTER = "Descent Studio scenes (*.json);;All files (*)"
STATUS_RUNS = 6  # runs listed with their loss in the status bar
# Events after which the user may have turned, zoomed or re-framed the 3D camera.
_CAMERA_EVENTS = (QEvent.Type.MouseButtonRelease, QEvent.Type.Wheel, QEvent.Type.Resize)


def default_scene() -> Scene:
    return load_scene(asset_path("scenes/default.json"))


class MainWindow(QMainWindow):
    def __init__(
        self, scene_path: Path | None = None, *, restore: bool = True, autoplay: bool = True
    ) -> None:
        """Raises StudioError when `scene_path` (or the default scene) cannot be used."""
        super().__init__()
        scene = load_scene(scene_path) if scene_path is not None else default_scene()
        self.session = Session(scene, parent=self)
        if scene_path is not None:
            self.session.set_path(Path(scene_path))
        self._restore = restore
        self.resize(1600, 1000)

        # Every view of the registry: the one without a dock title is the central widget.
        self.views = {name: entry.window(self.session) for name, entry in VIEWS.items()}
        self.view3d, self.contour, self.loss = (self.views[n] for n in ("3d", "contour", "loss"))
        self.setCentralWidget(next(self.views[n] for n, e in VIEWS.items() if not e.dock))
        self.surface_editor = SurfaceEditor(self.session)
        self.optimizer_panel = OptimizerPanel(self.session)
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("Surface", self.surface_editor, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("Optimizers", self.optimizer_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        for name, entry in VIEWS.items():
            if entry.dock:
                self._add_dock(entry.dock, self.views[name], Qt.DockWidgetArea.RightDockWidgetArea)

        self.playback = PlaybackBar(self.session)
        bar = QToolBar("Playback")
        bar.setObjectName("toolbar-playback")
        bar.setMovable(False)
        bar.addWidget(self.playback)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, bar)

        self.step_status = QLabel()
        self.busy_label = QLabel("simulating…")
        self.busy_label.setStyleSheet("color: #e69f00; padding: 0 8px;")
        self.busy_label.setVisible(False)
        self.statusBar().addWidget(self.step_status, 1)
        self.statusBar().addPermanentWidget(self.busy_label)

        self._camera_preset: str | None = "isometric"  # what the 3D view was framed for
        self._syncing_camera = False
        self._build_menus()
        self._connect_session()
        self._connect_view_settings()
        self._apply_default_layout()
        if restore:
            self._restore_settings()
        self._apply_dark()
        self._sync_camera()
        self._update_title()
        self._update_status()
        if autoplay:
            # Wait for the first trajectory so playback starts at step 0 of a real run.
            QTimer.singleShot(0, self._autoplay)

    # ------------------------------------------------------------------ construction

    def _add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[title] = dock

    def _apply_default_layout(self) -> None:
        """Left: editors; centre: 3D; right: map over loss. Proportions suit 1280–1920 px."""
        width, height = max(self.width(), 1000), max(self.height(), 700)
        left = int(np.clip(width * 0.22, 300, 380))
        right = int(np.clip(width * 0.28, 340, 500))
        self.resizeDocks(
            [self.docks["Surface"], self.docks["Map"]], [left, right], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.docks["Surface"], self.docks["Optimizers"]],
            [int(height * 0.36), int(height * 0.64)],
            Qt.Orientation.Vertical,
        )
        self.resizeDocks(
            [self.docks["Map"], self.docks["Loss"]],
            [int(height * 0.5), int(height * 0.5)],
            Qt.Orientation.Vertical,
        )

    def _action(
        self,
        menu,
        text: str,
        slot,
        shortcut: QKeySequence | str | None = None,
        checkable: bool = False,
        checked: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        menus = self.menuBar()
        key = QKeySequence.StandardKey

        file = menus.addMenu("&File")
        self._action(file, "&New", self.new_scene, key.New)
        self._action(file, "&Open…", self.open_dialog, key.Open)
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._action(file, "&Save", self.save, key.Save)
        self._action(file, "Save &As…", self.save_as, key.SaveAs)
        file.addSeparator()
        self._action(file, "&Export animation…", self.export_animation, "Ctrl+E")
        file.addSeparator()
        self._action(file, "&Quit", self.close, key.Quit)

        edit = menus.addMenu("&Edit")
        self.undo_action = self.session.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo_action = self.session.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)

        view = menus.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        vs = self.session.view_settings
        self._action(view, "&Reset 3D view", lambda: self.camera_preset("isometric"), "R")
        for name, shortcut in (("top", "1"), ("front", "2"), ("isometric", "3"), ("auto", "4")):
            self._action(
                view,
                {
                    "isometric": "3D view at an angle",
                    "auto": "3D view where the paths are seen",
                }.get(name, f"3D view from the {name}"),
                lambda _=False, n=name: self.camera_preset(n),
                shortcut,
            )
        self.wireframe_action = self._action(
            view,
            "&Wireframe",
            lambda on: vs.update(wireframe=on),
            checkable=True,
            checked=vs.wireframe,
        )
        self.floor_action = self._action(
            view,
            "&Floor contours",
            lambda on: vs.update(floor_contours=on),
            checkable=True,
            checked=vs.floor_contours,
        )
        self.axes_action = self._action(
            view, "3D &axes", lambda on: vs.update(axes=on), checkable=True, checked=vs.axes
        )
        self.colorbar_action = self._action(
            view,
            "Map &colour bar",
            lambda on: vs.update(colorbar=on),
            checkable=True,
            checked=vs.colorbar,
        )
        self.log_action = self._action(
            view,
            "&Log-scale loss",
            lambda on: vs.update(log_loss=on),
            checkable=True,
            checked=vs.log_loss,
        )
        view.addSeparator()
        theme = QActionGroup(self)
        self.dark_action = self._action(
            view,
            "&Dark theme",
            lambda on: on and self.set_dark(True),
            checkable=True,
            checked=vs.dark,
        )
        self.light_action = self._action(
            view,
            "&Light theme",
            lambda on: on and self.set_dark(False),
            checkable=True,
            checked=not vs.dark,
        )
        theme.addAction(self.dark_action)
        theme.addAction(self.light_action)

        play = menus.addMenu("&Play")
        for action in (
            self.playback.play_action,
            self.playback.back_action,
            self.playback.forward_action,
            self.playback.restart_action,
            self.playback.end_action,
        ):
            play.addAction(action)

        help_menu = menus.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, key.HelpContents)
        self._action(help_menu, "&About Descent Studio", lambda: show_about(self))

    def _connect_session(self) -> None:
        # Bound methods, never lambdas: PyQt disconnects a bound method when its window is
        # deleted, while a lambda outlives it (the undo stack announces cleanChanged as it
        # is torn down after the window, which then raised "wrapped C/C++ object ... deleted").
        s = self.session
        s.undo_stack.cleanChanged.connect(self._on_clean_changed)
        s.pathChanged.connect(self._update_title)
        s.busyChanged.connect(self.busy_label.setVisible)
        s.errorRaised.connect(self.show_error)
        s.frameChanged.connect(self._update_status)
        s.trajectoryChanged.connect(self._update_status)

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def show_error(self, message: str) -> None:
        """A refused edit or failed simulation: one line in the status bar."""
        self.statusBar().showMessage(message, 8000)

    # ------------------------------------------------------------------ view settings

    def _connect_view_settings(self) -> None:
        """Views follow `session.view_settings`; their own controls (the loss plot's log box
        and lower-plot combo, the mouse on the 3D view) write it."""
        vs = self.session.view_settings
        vs.changed.connect(self._on_view_setting)
        self.loss.log_check.toggled.connect(lambda on: vs.update(log_loss=on))
        self.loss.second_combo.currentTextChanged.connect(lambda t: vs.update(lower_plot=t))
        self.view3d.view.installEventFilter(self)
        for name in (
            "log_loss",
            "lower_plot",
            "wireframe",
            "floor_contours",
            "trail_length",
            "axes",
            "colorbar",
        ):
            self._on_view_setting(name)

    def _on_view_setting(self, name: str) -> None:
        vs = self.session.view_settings
        if name == "dark":
            self._apply_dark()
            if self._restore:
                vs.save()
        elif name == "log_loss":
            self.loss.set_log(vs.log_loss)
            self.log_action.setChecked(vs.log_loss)
        elif name == "lower_plot":
            self.loss.set_second(vs.lower_plot)
        elif name == "wireframe":
            self.view3d.set_wireframe(vs.wireframe)
            self.wireframe_action.setChecked(vs.wireframe)
        elif name == "floor_contours":
            self.view3d.set_floor_contours(vs.floor_contours)
            self.floor_action.setChecked(vs.floor_contours)
        elif name == "axes":
            self.view3d.view.set_axes(vs.axes)
            self.contour.set_axes(vs.axes)
            self.axes_action.setChecked(vs.axes)
        elif name == "colorbar":
            self.contour.set_colorbar(vs.colorbar)
            self.colorbar_action.setChecked(vs.colorbar)
        elif name == "trail_length":
            for view in (self.view3d, self.contour):
                view.set_trail_length(vs.trail_length)
        elif name == "camera" and not self._syncing_camera:
            self._apply_camera(vs.camera)

    def camera_preset(self, name: str) -> None:
        """Look from preset `name` ("isometric", "top", "front"), framed to fill the view."""
        self.session.view_settings.camera = Camera(*self.view3d.camera(), preset=name)
        self._apply_camera(self.session.view_settings.camera)

    def _apply_camera(self, camera: Camera) -> None:
        if camera.preset is not None:
            self._camera_preset = camera.preset
            self.view3d.camera_preset(camera.preset)
        else:
            self.view3d.set_camera(camera.azimuth, camera.elevation, camera.distance)
            self.view3d.view.hold_camera()
        self._sync_camera()

    def _sync_camera(self) -> None:
        """Copy the 3D view's camera into the settings (the user turns it with the mouse)."""
        azimuth, elevation, distance = self.view3d.camera()
        preset = self._camera_preset if self.view3d.is_framed() else None
        self._syncing_camera = True
        try:
            self.session.view_settings.camera = Camera(azimuth, elevation, distance, preset)
        finally:
            self._syncing_camera = False

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:
        if event is not None and event.type() in _CAMERA_EVENTS:
            # After the view has handled the event (a drag or wheel moved its camera).
            QTimer.singleShot(0, self._sync_camera)
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ settings

    def _restore_settings(self) -> None:
        settings = studio_settings()
        self.session.view_settings.load(settings)
        geometry = settings.value("window/geometry")
        state = settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_settings(self) -> None:
        settings = studio_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        self.session.view_settings.save(settings)

    # ------------------------------------------------------------------ theme

    def set_dark(self, dark: bool) -> None:
        self.session.view_settings.dark = dark

    def _apply_dark(self) -> None:
        dark = self.session.view_settings.dark
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_palette(app, dark)
        for view in self.views.values():
            view.set_dark(dark)
        (self.dark_action if dark else self.light_action).setChecked(True)

    # ------------------------------------------------------------------ status

    def _update_title(self, *_unused: object) -> None:
        name = self.session.path.name if self.session.path is not None else "Untitled"
        self.setWindowTitle(f"{APP_NAME} — {name}[*]")
        self.setWindowModified(not self.session.undo_stack.isClean())

    def _update_status(self, *_unused: object) -> None:
        trajectory = self.session.trajectory
        if trajectory is None:
            self.step_status.setText("")
            return
        frame = min(self.session.frame, self.session.last_frame)
        parts = [f"step {frame} / {self.session.last_frame}"]
        runs = self.session.scene.runs
        ball_run = np.asarray(trajectory.ball_run)
        stop_step = np.asarray(trajectory.stop_step)
        status_all = np.asarray(trajectory.status)
        loss = trajectory.loss[frame]
        shown = [i for i in range(len(runs)) if np.any(ball_run == i)]
        hidden = max(0, len(shown) - STATUS_RUNS)
        if hidden:  # the bar has room for a few: keep the selected run among them
            chosen = self.session.selected_run
            shown = (
                shown[:STATUS_RUNS]
                if chosen in shown[:STATUS_RUNS] or chosen not in shown
                else shown[: STATUS_RUNS - 1] + [chosen]
            )
        for i in shown:
            run = runs[i]
            mine = np.flatnonzero(ball_run == i)
            stop, status = stop_step[mine], status_all[mine]
            if mine.size == 1 and status[0] == DIVERGED and stop[0] <= frame:
                value = f"diverged at step {int(stop[0])}"
            elif mine.size == 1:
                value = f"{float(loss[mine[0]]):.4g}"
                if status[0] in (CONVERGED, STOPPED) and stop[0] <= frame:
                    value += " (converged)" if status[0] == CONVERGED else " (stopped early)"
            else:
                finite = loss[mine][np.isfinite(loss[mine])]
                value = f"best {float(finite.min()):.4g}" if finite.size else "—"
            parts.append(
                f"<span style='color:{run.color}'>●</span> {html.escape(run_label(run))}: {value}"
            )
        if hidden:
            parts.append(f"+{hidden} more")
        self.step_status.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _autoplay(self) -> None:
        self.session.wait_for_simulation()
        self.session.play()

    def prepare_screenshot(self) -> None:
        """A still for `--screenshot`: the run well under way, balls and trails visible."""
        self.session.pause()
        self.session.wait_for_simulation()
        self.session.set_frame(int(self.session.last_frame * 0.45))

    # ------------------------------------------------------------------ files

    def _confirm_discard(self) -> bool:
        """True when it is fine to replace the scene (clean, saved, or discarded)."""
        if self.session.undo_stack.isClean():
            return True
        answer = QMessageBox.question(
            self,
            APP_NAME,
            "The scene has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_scene(self) -> None:
        if not self._confirm_discard():
            return
        try:
            self.session.replace_scene(default_scene(), path=None)
        except StudioError as exc:
            QMessageBox.warning(self, APP_NAME, f"Cannot load the default scene: {exc}")

    def open_dialog(self) -> None:
        if not self._confirm_discard():
            return
        start = str(self.session.path.parent) if self.session.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open scene", start, SCENE_FILTER)
        if path:
            self.open_path(Path(path), confirm=False)

    def open_path(self, path: Path, confirm: bool = True) -> bool:
        if confirm and not self._confirm_discard():
            return False
        try:
            self.session.open(path)
        except StudioError as exc:
            QMessageBox.warning(self, APP_NAME, f"Cannot open {path.name}:\n{exc}")
            return False
        add_recent_file(str(path))
        return True

    def save(self) -> bool:
        if self.session.path is None:
            return self.save_as()
        return self._save_to(self.session.path)

    def save_as(self) -> bool:
        start = str(self.session.path) if self.session.path else "scene.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save scene as", start, SCENE_FILTER)
        if not path:
            return False
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".json")
        return self._save_to(target)

    def _save_to(self, path: Path) -> bool:
        try:
            self.session.save(path)
        except StudioError as exc:
            QMessageBox.warning(self, APP_NAME, f"Cannot save:\n{exc}")
            return False
        add_recent_file(str(path))
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = recent_files()
        for item in items:
            action = self.recent_menu.addAction(item)
            action.triggered.connect(lambda _=False, p=item: self.open_path(Path(p)))
        if items:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(clear_recent_files)
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def export_animation(self) -> None:
        from studio.gui.export.dialog import open_export_dialog  # heavy: loaded on demand

        self.session.pause()
        open_export_dialog(self.session, self)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.session.close()
        if self._restore:
            self.save_settings()
        event.accept()
