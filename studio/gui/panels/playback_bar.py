"""Play, pause, step, restart, speed, and a timeline that scrubs to any step at once.

The actions carry the keyboard shortcuts (Space, ←, →, Home) with window scope, so they
work wherever focus is, except inside a text field, which keeps its keys.
"""

from __future__ import annotations

from PyQt6.QtCore import QSignalBlocker, Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QStyle, QToolButton, QWidget

from studio.gui.session import Session

DEFAULT_FPS = 30


class PlaybackBar(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        style = self.style()
        icon = style.standardIcon
        sp = QStyle.StandardPixmap

        def action(
            text: str, pixmap: QStyle.StandardPixmap, key: QKeySequence | str, slot
        ) -> QAction:
            a = QAction(icon(pixmap), text, self)
            a.setShortcut(QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setToolTip(
                f"{text} ({QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)})"
            )
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.play_action = action("Play", sp.SP_MediaPlay, Qt.Key.Key_Space, session.toggle_play)
        self.back_action = action(
            "Step back",
            sp.SP_MediaSeekBackward,
            Qt.Key.Key_Left,
            lambda: session.step(-session.steps_per_tick),
        )
        self.forward_action = action(
            "Step forward",
            sp.SP_MediaSeekForward,
            Qt.Key.Key_Right,
            lambda: session.step(session.steps_per_tick),
        )
        self.restart_action = action(
            "Restart", sp.SP_MediaSkipBackward, Qt.Key.Key_Home, session.restart
        )
        self.end_action = action(
            "Go to end",
            sp.SP_MediaSkipForward,
            Qt.Key.Key_End,
            lambda: (session.pause(), session.set_frame(session.last_frame)),
        )

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for a in (
            self.restart_action,
            self.back_action,
            self.play_action,
            self.forward_action,
            self.end_action,
        ):
            button = QToolButton()
            button.setDefaultAction(a)
            button.setAutoRaise(True)
            layout.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setToolTip("Timeline: drag to scrub")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(session.pause)
        layout.addWidget(self.slider, 1)
        self.step_label = QLabel()
        self.step_label.setMinimumWidth(110)
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.step_label)

        self.fps_spin = QSpinBox()
        self.fps_spin.setRange(1, 120)
        self.fps_spin.setValue(DEFAULT_FPS)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setToolTip("Playback speed: frames per second")
        self.fps_spin.valueChanged.connect(session.set_speed_fps)
        self.stride_spin = QSpinBox()
        self.stride_spin.setRange(1, 1000)
        self.stride_spin.setValue(session.steps_per_tick)
        self.stride_spin.setPrefix("×")
        self.stride_spin.setSuffix(" steps/frame")
        self.stride_spin.setToolTip("Optimizer steps advanced per frame")
        self.stride_spin.valueChanged.connect(session.set_steps_per_tick)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.fps_spin)
        layout.addWidget(self.stride_spin)
        session.set_speed_fps(DEFAULT_FPS)

        session.frameChanged.connect(self._on_frame)
        session.trajectoryChanged.connect(self._on_trajectory)
        session.playingChanged.connect(self._on_playing)
        self._on_frame(session.frame)
        self._on_playing(session.playing)

    def _on_frame(self, frame: int) -> None:
        last = self.session.last_frame
        with QSignalBlocker(self.slider):
            self.slider.setMaximum(last)
            self.slider.setValue(frame)
        self.step_label.setText(f"step {frame} / {last}")

    def _on_trajectory(self, _trajectory: object) -> None:
        self._on_frame(self.session.frame)

    def _on_slider(self, value: int) -> None:
        self.session.set_frame(value)

    def _on_playing(self, playing: bool) -> None:
        sp = QStyle.StandardPixmap
        self.play_action.setIcon(
            self.style().standardIcon(sp.SP_MediaPause if playing else sp.SP_MediaPlay)
        )
        self.play_action.setText("Pause" if playing else "Play")
