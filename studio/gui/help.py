"""Help ▸ Keyboard shortcuts and Help ▸ About."""

from __future__ import annotations

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout, QWidget

import studio

SHORTCUTS = (
    ("Space", "Play / pause"),
    ("← / →", "Step back / forward"),
    ("Home", "Restart from step 0 and play"),
    ("End", "Go to the last step"),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo an edit"),
    ("Ctrl+N / Ctrl+O / Ctrl+S", "New, open, save a scene"),
    ("Ctrl+E", "Export animation (GIF / MP4)"),
    ("R", "Reset the 3D view"),
    ("1 / 2 / 3 / 4", "3D view from the top, front, at an angle, or where the paths are seen"),
    ("Drag in 3D", "Orbit (left), pan (middle or Ctrl+left), zoom (wheel)"),
    ("Click the map", "Move the selected run's start there"),
    ("Drag a start marker", "Move that start point (one undo step)"),
    ("Click / drag a loss plot", "Scrub to that step"),
)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = "".join(
            f"<tr><td style='padding:3px 16px 3px 0'><b>{k}</b></td><td>{v}</td></tr>"
            for k, v in SHORTCUTS
        )
        label = QLabel(f"<table>{rows}</table>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent,
        "About Descent Studio",
        f"<h3>Descent Studio {studio.__version__}</h3>"
        "<p>Type a loss surface, race gradient-descent optimizers across it — SGD, momentum, "
        "Nesterov, Adagrad, RMSprop, Adam and friends — and watch each ball's path, loss and "
        "step size side by side. Every edit re-simulates at once; export the run as a GIF or "
        "MP4 for your slides.</p><p>MIT licence.</p>",
    )
