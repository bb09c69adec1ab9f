"""File → Export animation…: choose format, size, timing, view and overlays; export live.

The dialog only gathers `RenderOptions` and a path; `ExportJob` (studio.gui.export.job)
renders on the GUI thread in time-boxed slices while ffmpeg encodes in its own process,
and a QProgressDialog shows frames done and time left. Cancel stops within one slice and
removes the temporary file. Choices are remembered in QSettings under `export/`, once an
export has started (a path that failed is never suggested again); a remembered step range
is used only where it fits the run now open.

The formats, their rates, even sides and stills come from the writer classes
(studio.export.WRITERS), the views from studio.export.views: the dialog keeps no table of
its own. Frame rates follow what each format's players handle: MP4 1-120, GIF 1-50. A GIF
frame lasts whole hundredths of a second, so a GIF plays at 100/N frames/s; the summary line
says so when the rate chosen is not one of those.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.engine.memory import check_render_memory
from studio.errors import StudioError
from studio.export import WRITERS, ExportError, FrameWriter, fps_range, playback_fps
from studio.export.options import DEFAULT_HOLD, EXPORT_PRESETS, RenderOptions, even_size, plan_steps
from studio.export.titles import default_title
from studio.export.views import EXPORT_VIEWS
from studio.gui.export.job import ExportJob
from studio.gui.session import Session
from studio.gui.settings import LOWER_PLOT_CODE, studio_settings

SIZES = (
    ("720p (1280×720)", (1280, 720)),
    ("1080p (1920×1080)", (1920, 1080)),
    ("4K (3840×2160)", (3840, 2160)),
    ("Square (1080×1080)", (1080, 1080)),
)
CURRENT, CUSTOM = "Current view", "Custom"
WHOLE_TRAIL = -1
DEFAULT_FPS_RANGE = (1, 120)


def _spin(lo: int, hi: int, value: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class ExportDialog(QDialog):
    """The options form; `start_export()` runs the export with a progress dialog."""

    def __init__(self, session: Session, main_window: QWidget | None = None) -> None:
        super().__init__(main_window)
        self.setWindowTitle("Export animation")
        self.session = session
        self.main_window = main_window
        self.job: ExportJob | None = None
        self.dispose_when_done = False
        self.progress: QProgressDialog | None = None
        self._started = 0.0
        last = session.last_frame

        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)

        self.format_combo = QComboBox()
        for fmt, writer in WRITERS.items():
            self.format_combo.addItem(writer.label, fmt)

        self.size_combo = QComboBox()
        for text, size in SIZES:
            self.size_combo.addItem(text, size)
        view_size = self._current_view_size()
        self.size_combo.addItem(f"{CURRENT} ({view_size[0]}×{view_size[1]})", view_size)
        self.size_combo.addItem(CUSTOM, None)
        self.width_spin = _spin(16, 8192, 1280, " px")
        self.height_spin = _spin(16, 8192, 720, " px")
        size_row = QHBoxLayout()
        for w in (self.size_combo, self.width_spin, QLabel("×"), self.height_spin):
            size_row.addWidget(w)

        self.fps_spin = _spin(1, 120, 30, " frames/s")

        self.whole_radio = QRadioButton("Whole run")
        self.range_radio = QRadioButton("Steps")
        self.from_spin = _spin(0, last, 0)
        self.to_spin = _spin(0, last, last)
        group = QButtonGroup(self)
        group.addButton(self.whole_radio)
        group.addButton(self.range_radio)
        self.whole_radio.setChecked(True)
        range_row = QHBoxLayout()
        for w in (self.whole_radio, self.range_radio, self.from_spin, QLabel("to"), self.to_spin):
            range_row.addWidget(w)

        self.spf_radio = QRadioButton("Steps per frame")
        self.duration_radio = QRadioButton("Duration")
        self.spf_spin = _spin(1, 10_000, 1)
        self.duration_spin = QDoubleSpinBox()
        self.duration_spin.setRange(0.1, 600.0)
        self.duration_spin.setValue(10.0)
        self.duration_spin.setSuffix(" s")
        group2 = QButtonGroup(self)
        group2.addButton(self.spf_radio)
        group2.addButton(self.duration_radio)
        self.duration_radio.setChecked(True)
        timing_row = QHBoxLayout()
        for w in (self.spf_radio, self.spf_spin, self.duration_radio, self.duration_spin):
            timing_row.addWidget(w)

        self.view_combo = QComboBox()
        for name, shown in EXPORT_VIEWS.items():
            self.view_combo.addItem(shown.title, name)
        self.camera_combo = QComboBox()
        self.camera_combo.addItems(["As now", "Orbit"])
        self.orbit_spin = _spin(-1080, 1080, 360, "°")
        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera_combo)
        camera_row.addWidget(self.orbit_spin)

        self.title_check = QCheckBox("Title")
        self.title_check.setChecked(True)
        self.title_edit = QLineEdit(default_title(session.scene, session.surface))
        self.legend_check = QCheckBox("Legend")
        self.legend_check.setChecked(True)
        self.step_check = QCheckBox("Step counter")
        self.step_check.setChecked(True)
        overlay_row = QHBoxLayout()
        for w in (self.legend_check, self.step_check):
            overlay_row.addWidget(w)
        overlay_row.addStretch(1)
        title_row = QHBoxLayout()
        title_row.addWidget(self.title_check)
        title_row.addWidget(self.title_edit, 1)

        self.background_combo = QComboBox()
        self.background_combo.addItems(["Dark", "Light"])
        self.trail_spin = _spin(WHOLE_TRAIL, 100_000, WHOLE_TRAIL, " steps")
        self.trail_spin.setSpecialValueText("Whole path")

        # Named output choices: picking one sets format, size and rate.
        self.preset_combo = QComboBox()
        self.preset_combo.addItem("Custom", None)
        for preset in EXPORT_PRESETS.values():
            self.preset_combo.addItem(preset.label, preset.name)
        self.preset_combo.currentIndexChanged.connect(self._apply_preset)
        self.hold_spin = QDoubleSpinBox()
        self.hold_spin.setRange(0.0, 10.0)
        self.hold_spin.setSingleStep(0.5)
        self.hold_spin.setValue(DEFAULT_HOLD)
        self.hold_spin.setSuffix(" s")
        self.hold_spin.setToolTip("How long the last frame stays, so the ending can be read")
        self.ghost_check = QCheckBox("Loss curves' future shown faintly")

        self.summary = QLabel()
        form = QFormLayout()
        form.addRow("Preset", self.preset_combo)
        form.addRow("File", path_row)
        form.addRow("Format", self.format_combo)
        form.addRow("Size", size_row)
        form.addRow("Frame rate", self.fps_spin)
        form.addRow("Range", range_row)
        form.addRow("Length", timing_row)
        form.addRow("View", self.view_combo)
        form.addRow("Camera", camera_row)
        form.addRow("Overlays", title_row)
        form.addRow("", overlay_row)
        form.addRow("Background", self.background_combo)
        form.addRow("Trail", self.trail_spin)
        form.addRow("Hold at end", self.hold_spin)
        form.addRow("", self.ghost_check)
        form.addRow("", self.summary)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(form)
        outer.addWidget(buttons)

        self._restore()
        for signal in (
            self.format_combo.currentIndexChanged,
            self.size_combo.currentIndexChanged,
            self.width_spin.valueChanged,
            self.height_spin.valueChanged,
            self.fps_spin.valueChanged,
            self.whole_radio.toggled,
            self.from_spin.valueChanged,
            self.to_spin.valueChanged,
            self.spf_radio.toggled,
            self.spf_spin.valueChanged,
            self.duration_spin.valueChanged,
            self.view_combo.currentIndexChanged,
            self.camera_combo.currentIndexChanged,
            self.title_check.toggled,
        ):
            signal.connect(self._refresh)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.width_spin.editingFinished.connect(self._enforce_even)
        self.height_spin.editingFinished.connect(self._enforce_even)
        self._refresh()

    # ------------------------------------------------------------------ state

    def fmt(self) -> str:
        return self.format_combo.currentData()

    def writer(self) -> type[FrameWriter]:
        """The chosen format's writer class (what it needs: even sides, a still, …)."""
        return WRITERS[self.fmt()]

    def _current_view_size(self) -> tuple[int, int]:
        view = getattr(self.main_window, "view3d", None)
        if view is None or view.width() < 16:
            return (1280, 720)
        return even_size((view.width(), view.height()))

    def export_size(self) -> tuple[int, int]:
        return (self.width_spin.value(), self.height_spin.value())

    def _camera(self) -> tuple[float, float, float | None] | None:
        """The window's camera angles (the session's view settings); its distance only
        where the user zoomed: a preset's framing is redone for the export's own size."""
        return self.session.view_settings.camera.for_export()

    def fps(self) -> float:
        """The rate the file will play at (a GIF's rounded to whole hundredths a frame)."""
        chosen = float(self.fps_spin.value())
        try:
            return playback_fps(self.fmt(), chosen)
        except ExportError:  # the spin box's range is the format's: not reached
            return chosen

    def options(self) -> RenderOptions:
        whole = self.whole_radio.isChecked()
        still = not self.writer().animated
        trail = self.trail_spin.value()
        settings = self.session.view_settings
        return RenderOptions(
            size=self.export_size(),
            fps=self.fps(),
            view=self.view_combo.currentData(),
            title=self.title_edit.text() if self.title_check.isChecked() else "",
            legend=self.legend_check.isChecked(),
            step_counter=self.step_check.isChecked(),
            dark=self.background_combo.currentIndex() == 0,
            trail=None if trail == WHOLE_TRAIL else trail,
            camera=self._camera(),
            orbit=float(self.orbit_spin.value()) if self.camera_combo.currentIndex() == 1 else 0.0,
            from_step=0 if whole or still else self.from_spin.value(),
            to_step=self.session.frame if still else (None if whole else self.to_spin.value()),
            duration=self.duration_spin.value() if self.duration_radio.isChecked() else None,
            steps_per_frame=self.spf_spin.value() if self.spf_radio.isChecked() else None,
            still=still,
            hold=self.hold_spin.value(),
            ghost=self.ghost_check.isChecked(),
            # What the window shows, the export shows: its lower plot and floor isolines.
            lower_plot=LOWER_PLOT_CODE[settings.lower_plot],
            floor_contours=settings.floor_contours,
            msaa=self._preset_msaa(),
        )

    def _preset_msaa(self) -> int:
        name = self.preset_combo.currentData()
        return EXPORT_PRESETS[name].msaa if name in EXPORT_PRESETS else 0

    def _apply_preset(self) -> None:
        name = self.preset_combo.currentData()
        preset = EXPORT_PRESETS.get(name) if name else None
        if preset is None:
            return
        for i in range(self.format_combo.count()):
            if self.format_combo.itemData(i) == preset.fmt:
                self.format_combo.setCurrentIndex(i)
        self.width_spin.setValue(preset.size[0])
        self.height_spin.setValue(preset.size[1])
        self.fps_spin.setValue(round(preset.fps))

    def path(self) -> Path:
        return Path(self.path_edit.text()).expanduser()

    # ------------------------------------------------------------------ reactions

    def _format_changed(self) -> None:
        text = self.path_edit.text()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix("." + self.fmt())))
        self._fit_fps_range()
        self._enforce_even()

    def _fit_fps_range(self) -> None:
        """The frame rate box offers what the format's players handle (GIF at most 50)."""
        lo, hi = fps_range(self.fmt()) or DEFAULT_FPS_RANGE
        self.fps_spin.setRange(int(lo), int(hi))

    def _enforce_even(self) -> None:
        """A format that needs even sides (MP4's yuv420p): round odd ones down, step by 2."""
        even = self.writer().even_sides
        for box in (self.width_spin, self.height_spin):
            box.setSingleStep(2 if even else 1)
            if even and box.value() % 2:
                box.setValue(box.value() - 1)

    def _refresh(self) -> None:
        preset = self.size_combo.currentData()
        custom = preset is None
        self.width_spin.setEnabled(custom)
        self.height_spin.setEnabled(custom)
        if not custom:
            self.width_spin.setValue(preset[0])
            self.height_spin.setValue(preset[1])
        self._enforce_even()
        still = not self.writer().animated
        for w in (
            self.whole_radio,
            self.range_radio,
            self.spf_radio,
            self.duration_radio,
            self.fps_spin,
            self.camera_combo,
        ):
            w.setEnabled(not still)
        ranged = self.range_radio.isChecked() and not still
        self.from_spin.setEnabled(ranged)
        self.to_spin.setEnabled(ranged)
        self.spf_spin.setEnabled(self.spf_radio.isChecked() and not still)
        self.duration_spin.setEnabled(self.duration_radio.isChecked() and not still)
        self.orbit_spin.setEnabled(self.camera_combo.currentIndex() == 1 and not still)
        self.title_edit.setEnabled(self.title_check.isChecked())
        try:
            n = plan_steps(self.options(), self.session.last_frame).size
        except Exception as exc:  # noqa: BLE001 - any bad combination is shown, not raised
            self.summary.setText(str(exc))
            self.export_button.setEnabled(False)
            return
        self.export_button.setEnabled(True)
        if still:
            self.summary.setText(f"One frame: step {self.session.frame}")
            return
        fps = self.fps()
        text = f"{n} frames, {n / fps:.1f} s"
        if abs(fps - self.fps_spin.value()) > 1e-9:
            text += f" at {fps:.3g} frames/s (a GIF frame lasts whole hundredths of a second)"
        self.summary.setText(text)

    def _browse(self) -> None:
        fmt = self.fmt()
        name, _ = QFileDialog.getSaveFileName(
            self, "Export to", str(self._suggested_path()), f"{fmt.upper()} (*.{fmt})"
        )
        if name:
            self.path_edit.setText(str(Path(name).with_suffix("." + fmt)))

    def _suggested_path(self) -> Path:
        folder = Path(str(studio_settings().value("export/folder", str(Path.home()))))
        stem = self.session.path.stem if self.session.path is not None else "descent"
        return folder / f"{stem}.{self.fmt()}"

    # ------------------------------------------------------------------ settings

    def _restore(self) -> None:
        s = studio_settings()
        dark_now = self.session.view_settings.dark

        def index(combo: QComboBox, key: str, default: int) -> None:
            value = s.value(key, default, type=int)
            combo.setCurrentIndex(value if 0 <= value < combo.count() else default)

        index(self.format_combo, "export/format", 0)
        self._fit_fps_range()
        index(self.size_combo, "export/size", 0)
        self.width_spin.setValue(s.value("export/width", 1280, type=int))
        self.height_spin.setValue(s.value("export/height", 720, type=int))
        self.fps_spin.setValue(s.value("export/fps", round(self.writer().default_fps), type=int))
        (
            self.spf_radio if s.value("export/by_steps", False, type=bool) else self.duration_radio
        ).setChecked(True)
        self.spf_spin.setValue(s.value("export/steps_per_frame", 1, type=int))
        self.duration_spin.setValue(s.value("export/duration", 10.0, type=float))
        index(self.view_combo, "export/view", 0)
        index(self.camera_combo, "export/camera", 0)
        self.orbit_spin.setValue(s.value("export/orbit", 360, type=int))
        self.legend_check.setChecked(s.value("export/legend", True, type=bool))
        self.step_check.setChecked(s.value("export/step_counter", True, type=bool))
        self.title_check.setChecked(s.value("export/title", True, type=bool))
        # The background chosen last time; before any export, the window's theme.
        index(self.background_combo, "export/background", 0 if dark_now else 1)
        self.trail_spin.setValue(s.value("export/trail", WHOLE_TRAIL, type=int))
        self._restore_range(
            s.value("export/range", False, type=bool),
            s.value("export/from", 0, type=int),
            s.value("export/to", -1, type=int),
        )
        self.path_edit.setText(str(self._suggested_path()))

    def _restore_range(self, ranged: bool, lo: int, hi: int) -> None:
        """A remembered step range, where it fits this run; else the whole run."""
        last = self.session.last_frame
        if ranged and 0 <= lo <= hi <= last:
            self.from_spin.setValue(lo)
            self.to_spin.setValue(hi)
            self.range_radio.setChecked(True)
        else:
            self.whole_radio.setChecked(True)

    def save_settings(self) -> None:
        s = studio_settings()
        for key, value in (
            ("format", self.format_combo.currentIndex()),
            ("size", self.size_combo.currentIndex()),
            ("width", self.width_spin.value()),
            ("height", self.height_spin.value()),
            ("fps", self.fps_spin.value()),
            ("by_steps", self.spf_radio.isChecked()),
            ("steps_per_frame", self.spf_spin.value()),
            ("duration", self.duration_spin.value()),
            ("view", self.view_combo.currentIndex()),
            ("camera", self.camera_combo.currentIndex()),
            ("orbit", self.orbit_spin.value()),
            ("legend", self.legend_check.isChecked()),
            ("step_counter", self.step_check.isChecked()),
            ("title", self.title_check.isChecked()),
            ("trail", self.trail_spin.value()),
            ("background", self.background_combo.currentIndex()),
            ("range", self.range_radio.isChecked()),
            ("from", self.from_spin.value()),
            ("to", self.to_spin.value()),
            ("folder", str(self.path().parent)),
        ):
            s.setValue(f"export/{key}", value)

    # ------------------------------------------------------------------ running

    def start_export(self) -> ExportJob | None:
        """Start the export with a progress dialog; None if it could not start. The
        choices are remembered once it has started (never a path that was refused)."""
        parent = self.main_window or self
        options = self.options()
        try:  # what would not fit in memory is refused before a frame is drawn
            check_render_memory(
                self.session.scene,
                EXPORT_VIEWS[options.view].panels,
                options.size,
                options.transparent,
            )
        except StudioError as exc:
            QMessageBox.warning(parent, "Export refused", str(exc))
            return None
        job = ExportJob(self.session.scene, self.path(), options, parent)
        progress = QProgressDialog("Preparing…", "Cancel", 0, 1, parent)
        progress.setWindowTitle("Exporting")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(job.cancel)
        job.progress.connect(self._on_progress)
        job.finishing.connect(self._on_finishing)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._close_progress)
        self.job, self.progress = job, progress
        self._started = time.monotonic()
        if not job.start():
            return None
        self.save_settings()
        return job

    def _on_progress(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._started
        left = elapsed / done * (total - done) if done else 0.0
        self.progress.setLabelText(
            f"Frame {done} of {total} — about {left:.0f} s left" if done else f"Frame 0 of {total}"
        )

    def _on_finishing(self) -> None:
        if self.progress is not None:
            self.progress.setLabelText("Finishing the file…")
            self.progress.setCancelButton(None)

    def _on_finished(self, path: Path) -> None:
        self._close_progress()
        bar = getattr(self.main_window, "statusBar", None)
        if callable(bar):
            bar().showMessage(f"Exported {path}", 10_000)

    def _on_failed(self, message: str) -> None:
        self._close_progress()
        QMessageBox.warning(self.main_window or self, "Export failed", message)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        if self.job is not None and not self.job.running:
            self.job.deleteLater()
            self.job = None
        if self.dispose_when_done:
            self.deleteLater()


def open_export_dialog(session: Session, main_window: QWidget | None) -> None:
    """File → Export animation…: ask, then export with progress (GUI stays live)."""
    dialog = ExportDialog(session, main_window)
    dialog.dispose_when_done = True
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.start_export() is None:
        dialog.deleteLater()
