"""The surface editor: preset, formula, parameters, domain, height mode, gradient.

Every edit goes through `Session.edit_scene`: one undo step per committed edit (Enter, a
preset pick, a slider released), merged only while a slider or spin box is being dragged or
a formula typed. The rules themselves (parameters, presets, leaving a preset) live in the
Qt-free `studio.editing`, shared with the command line. The formula is validated while the
user types, after a short pause: a formula that does not parse never reaches the scene, the
error is shown in one red line with a caret under its column, and the last valid surface
stays on screen.

Picking a preset is one undo step that replaces the surface spec and also moves every run's
start to the preset's first classic start and applies the preset's suggested
hyperparameters, so the balls land on the new domain with settings that make sense there.
Typing another formula leaves the preset: its parameters the formula no longer uses and
its height mode go with it.

While the current surface has points where f is undefined (log(x) + y² for x ≤ 0) a note
under the gradient says so, with roughly which share of the domain; the views draw those
points as holes (docs/algorithms.md#undefined-regions).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from PyQt6.QtCore import QPointF, QSignalBlocker, Qt, QTimer
from PyQt6.QtGui import QColor, QFontDatabase, QPainter, QPaintEvent, QPolygonF
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.editing import (
    ParamsError,
    custom_surface,
    effective_expression,
    effective_params,
    format_params,
    parse_params,
    pick_preset,
    preset_of,
    retarget_run,
)
from studio.errors import StudioError
from studio.gui.compile_worker import CompileWorker
from studio.gui.panels.data_table import DataPanel
from studio.gui.panels.hyper_widgets import NumberSpinBox, round_sig
from studio.gui.panels.network_form import NetworkForm
from studio.gui.session import Session
from studio.gui.views.throttle import Throttle
from studio.scene import HEIGHT_MODES, Scene, SurfaceSpec
from studio.surface import PRESETS, Surface
from studio.surface.budget import surface_if_compiled
from studio.surface.parser import MAX_MAGNITUDE

DEBOUNCE_MS = 250
ERROR_STYLE = "color: #d62728;"
# Any value a scene file may hold (the parser bounds constants by the same magnitude).
DOMAIN_LIMIT = MAX_MAGNITUDE
PARAM_LIMIT = MAX_MAGNITUDE
PARAM_SLIDER_STEPS = 1000
GRADIENT_CHARS = 400  # per component shown in the label; the tooltip holds more
GRADIENT_TOOLTIP_CHARS = 4000
GRADIENT_RUN = 24  # an unbroken run longer than this gets break opportunities
_BREAKS = re.compile(r"([*(,])")

__all__ = [
    "DEBOUNCE_MS",
    "ParamsError",
    "SurfaceEditor",
    "format_params",
    "parse_params",
    "retarget_run",
]


def undefined_note(share: float) -> str:
    """The Surface panel's note for a surface undefined on `share` of its domain."""
    if share <= 0.0:
        return ""
    if share >= 1.0:
        return "⚠ f is undefined on the whole domain: nothing to draw, nowhere to start"
    about = "under 1%" if share < 0.01 else f"about {share:.0%}"
    return f"⚠ f is undefined on part of the domain ({about}): shown as holes"


def gradient_display(text: str) -> str:
    """A gradient as the label shows it: at most `GRADIENT_CHARS` characters (then "…"),
    with a zero-width break after each `*`, `(` and `,` of a long unbroken run, so it wraps
    within the dock's width (sympy prints products without spaces)."""
    if len(text) > GRADIENT_CHARS:
        text = text[:GRADIENT_CHARS] + " …"
    return " ".join(
        _BREAKS.sub("\\1\u200b", word) if len(word) > GRADIENT_RUN else word
        for word in text.split(" ")
    )


class ErrorMarker(QWidget):
    """A thin strip under the formula field with a red caret under the error's column."""

    def __init__(self, field: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._field = field
        self.column: int | None = None
        self.setFixedHeight(7)

    def set_column(self, column: int | None) -> None:
        self.column = column
        self.update()

    def caret_x(self) -> float:
        """Where column `column` sits horizontally, in this widget's coordinates."""
        assert self.column is not None
        field = self._field
        text = field.text()
        metrics = field.fontMetrics()
        index = max(0, min(len(text), self.column - 1))
        # QLineEdit draws text 2 px inside its content rect plus the text margins; the
        # caret points at the middle of the offending character (or just past the end).
        left = field.contentsRect().left() + field.textMargins().left() + 2
        char = text[index] if index < len(text) else " "
        x = left + metrics.horizontalAdvance(text[:index]) + metrics.horizontalAdvance(char) / 2
        return self.mapFromGlobal(field.mapToGlobal(QPointF(x, 0).toPoint())).x()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        if self.column is None:
            return
        x = self.caret_x()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#d62728"))
        h = float(self.height())
        painter.drawPolygon(QPolygonF([QPointF(x, 0), QPointF(x - 4, h), QPointF(x + 4, h)]))
        painter.end()


class ParamRow(QWidget):
    """One declared parameter: a linear slider around its starting value plus a spin box."""

    def __init__(self, name: str, value: float, editor: SurfaceEditor) -> None:
        super().__init__(editor)
        self.name = name
        self._editor = editor
        # The slider spans value ± max(1, |value|): b=100 explores 0..200, a=1 explores -1..3.
        span = max(1.0, abs(value))
        self._lo, self._hi = value - span, value + span
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, PARAM_SLIDER_STEPS)
        self.spin = NumberSpinBox(-PARAM_LIMIT, PARAM_LIMIT, parent=self)
        self.slider.setToolTip(f"Parameter {name}: drag to explore {self._lo:g} … {self._hi:g}")
        self.spin.setToolTip(f"Parameter {name} of the formula: type any finite number")
        layout.addWidget(QLabel(name, self))
        layout.addWidget(self.slider, 3)
        layout.addWidget(self.spin, 2)
        self.set_value(value)
        # A drag moves the slider a hundred times a second; the surface is edited at most
        # once a frame, with the newest position (each edit re-validates the scene and
        # tells every panel).
        self._slid_to: float | None = None
        self._apply_slider = Throttle(self._edit_slid, parent=self)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)
        self.slider.sliderReleased.connect(self._apply_slider.flush)
        self.slider.sliderReleased.connect(editor.session.seal_edits)
        self.spin.editingFinished.connect(editor.session.seal_edits)

    def set_value(self, value: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._position(value))
        if self.spin.value() != value:
            with QSignalBlocker(self.spin):
                self.spin.setValue(value)

    def _position(self, value: float) -> int:
        frac = (value - self._lo) / (self._hi - self._lo)
        return max(0, min(PARAM_SLIDER_STEPS, round(frac * PARAM_SLIDER_STEPS)))

    def _on_slider(self, pos: int) -> None:
        value = round_sig(self._lo + (self._hi - self._lo) * pos / PARAM_SLIDER_STEPS, 4)
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        self._slid_to = value
        self._apply_slider.request()

    def _edit_slid(self) -> None:
        value, self._slid_to = self._slid_to, None
        if value is not None:
            self._editor.set_param(self.name, value)

    def _on_spin(self, value: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(self._position(value))
        self._editor.set_param(self.name, value)


class SurfaceEditor(QWidget):
    """Edit the session's surface spec; see the module docstring."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._shown_spec: SurfaceSpec | None = None
        self._param_rows: dict[str, ParamRow] = {}

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.preset_combo = QComboBox(self)
        for name, preset in PRESETS.items():
            self.preset_combo.addItem(preset.title, name)
        self.preset_combo.addItem("Custom", None)
        self.preset_combo.setToolTip("A classic test surface, or Custom for your own formula")

        self.expression_edit = QLineEdit(self)
        self.expression_edit.setFont(mono)
        self.expression_edit.setPlaceholderText("e.g. (1 - x)**2 + 100*(y - x**2)**2")
        self._formula_help = (
            "f(x, y): numbers, x, y, declared parameters, pi, e, "
            "+ - * / ^ **, and functions such as sin, exp, log, sqrt, abs"
        )
        self.expression_edit.setToolTip(self._formula_help)
        self.error_marker = ErrorMarker(self.expression_edit, self)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.params_edit = QLineEdit(self)
        self.params_edit.setFont(mono)
        self.params_edit.setPlaceholderText("parameters, e.g. a=1, b=100")
        self.params_edit.setToolTip("Declare parameters the formula may use: name=value, ...")
        self._params_box = QWidget(self)
        self._params_layout = QVBoxLayout(self._params_box)
        self._params_layout.setContentsMargins(0, 0, 0, 0)

        self.domain_spins: tuple[NumberSpinBox, ...] = tuple(
            NumberSpinBox(-DOMAIN_LIMIT, DOMAIN_LIMIT, parent=self) for _ in range(4)
        )
        for spin, tip in zip(self.domain_spins, ("x min", "x max", "y min", "y max"), strict=True):
            spin.setToolTip(tip)
        domain = QGridLayout()
        domain.addWidget(QLabel("x", self), 0, 0)
        domain.addWidget(self.domain_spins[0], 0, 1)
        domain.addWidget(QLabel("…", self), 0, 2)
        domain.addWidget(self.domain_spins[1], 0, 3)
        domain.addWidget(QLabel("y", self), 1, 0)
        domain.addWidget(self.domain_spins[2], 1, 1)
        domain.addWidget(QLabel("…", self), 1, 2)
        domain.addWidget(self.domain_spins[3], 1, 3)

        self.height_combo = QComboBox(self)
        for mode in HEIGHT_MODES:
            self.height_combo.addItem(mode, mode)
        self.height_combo.setToolTip(
            "How the 3D view scales heights (auto picks log1p for surfaces with a huge range)"
        )

        self.gradient_label = QLabel(self)
        self.gradient_label.setFont(mono)
        self.gradient_label.setWordWrap(True)
        # Its width follows the dock, never the text: a long gradient wraps (see
        # `gradient_display`) instead of making its length the window's minimum width.
        self.gradient_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.gradient_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )

        self.undefined_note = QLabel(self)
        self.undefined_note.setWordWrap(True)
        self.undefined_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.undefined_note.setToolTip(
            "Where f has no value (the log or square root of a negative number) the views "
            "show a hole and no run can start; a run that walks into it is marked diverged"
        )
        self.undefined_note.hide()

        # A formula not compiled yet compiles off the GUI thread (see _edit_surface).
        self.compiler = CompileWorker(self)
        self.compiling_label = QLabel("compiling…", self)
        self.compiling_label.hide()
        self.compiler.busyChanged.connect(self.compiling_label.setVisible)
        self.compiler.failed.connect(self.show_error)

        expression_box = QVBoxLayout()
        expression_box.setSpacing(0)
        expression_box.addWidget(self.expression_edit)
        expression_box.addWidget(self.error_marker)
        expression_box.addWidget(self.error_label)
        expression_box.addWidget(self.compiling_label)

        form = QFormLayout(self)
        form.addRow("Preset", self.preset_combo)
        form.addRow("f(x, y) =", expression_box)
        form.addRow("Parameters", self.params_edit)
        form.addRow("", self._params_box)
        form.addRow("Domain", domain)
        form.addRow("Height", self.height_combo)
        form.addRow("Gradient", self.gradient_label)
        form.addRow("", self.undefined_note)
        # A data-fit preset's rows and loss reduction (hidden for other surfaces).
        self.data_panel = DataPanel(session, self._edit_surface, self)
        form.addRow(self.data_panel)
        # The Kind row (Surface or Network) and the network's own rows.
        self.network_form = NetworkForm(session, self)
        self.network_form.attach(form)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_expression)

        self.preset_combo.activated.connect(self._on_preset_activated)
        self.expression_edit.textEdited.connect(lambda _text: self._debounce.start())
        self.expression_edit.returnPressed.connect(self._on_return)
        # Focus leaving the formula ends its typing burst (Enter seals in _on_return).
        self.expression_edit.editingFinished.connect(self._on_formula_left)
        self.params_edit.editingFinished.connect(self.apply_params_text)
        for spin in self.domain_spins:
            spin.valueChanged.connect(self._on_domain)
            spin.editingFinished.connect(session.seal_edits)
        self.height_combo.activated.connect(self._on_height)

        session.sceneChanged.connect(self._refresh)
        session.surfaceChanged.connect(self._show_surface)
        self._refresh(session.scene)
        self._show_surface(session.surface)

    # ------------------------------------------------------------------ helpers

    @property
    def spec(self) -> SurfaceSpec:
        return self.session.scene.surface

    def effective_expression(self, spec: SurfaceSpec) -> str:
        """The formula the user sees: the spec's own, else its preset's."""
        return effective_expression(spec) or str(self.session.surface.expression)

    def effective_domain(self) -> tuple[float, float, float, float]:
        domain = self.spec.domain or self.session.surface.domain
        return (float(domain[0]), float(domain[1]), float(domain[2]), float(domain[3]))

    def _edit_surface(
        self,
        spec: SurfaceSpec,
        text: str,
        merge_key: str | None = None,
    ) -> bool:
        """Check `spec` builds a surface (showing why not), then make it one undo step.

        A formula that needs compiling is compiled in the worker, under its time budget:
        this returns True at once, the last valid surface stays until the new one arrives,
        and only the newest request lands (or shows why it was refused)."""
        try:
            if surface_if_compiled(spec) is None:
                self.compiler.request(spec, lambda: self._edit_surface(spec, text, merge_key))
                return True
        except StudioError as exc:
            self.compiler.cancel()
            self.show_error(exc)
            return False
        self.compiler.cancel()
        self.show_error(None)
        scene = self.session.scene
        # A scene's title describes its function ("Rosenbrock: six optimizers race..."): a
        # new function drops it, and the views fall back to the surface's own name.
        same_function = (spec.preset, spec.expression) == (
            scene.surface.preset,
            scene.surface.expression,
        )
        scene = dataclasses.replace(scene, surface=spec, title=scene.title if same_function else "")
        return self.session.edit_scene(scene, text, merge_key)

    def show_error(self, exc: StudioError | str | None) -> None:
        """One red line under the formula, and a caret under the column when known."""
        if exc is None:
            self.error_label.clear()
            self.error_label.hide()
            self.error_marker.set_column(None)
            return
        self.error_label.setText(str(exc))
        self.error_label.show()
        column = getattr(exc, "column", None)
        self.error_marker.set_column(column if isinstance(column, int) else None)

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    # ------------------------------------------------------------------ widget → model

    def apply_expression(self) -> bool:
        """Validate the typed formula now; edit the scene only if it builds a surface."""
        self._debounce.stop()
        text = self.expression_edit.text()
        spec = self.spec
        if text == self.effective_expression(spec):
            self.show_error(None)
            return True
        if not text.strip():
            self.show_error("type a formula in x and y")
            return False
        preset = preset_of(spec)
        if preset is not None and preset.data_fit:
            # A data-fit formula is a per-row loss in x, y and the data columns u, v: it
            # only means something with the preset's rows, so the edit overrides the
            # preset's formula instead of leaving the preset.
            new = dataclasses.replace(spec, expression=text)
        else:
            # An edited formula is the user's own surface (see studio.editing.custom_surface).
            new = custom_surface(spec, text, self.effective_domain())
        return self._edit_surface(new, "Edit formula", merge_key="surface.expression")

    def _on_return(self) -> None:
        ok = self.apply_expression()
        self.session.seal_edits()  # Enter commits: the next formula is an undo step of its own
        if not ok:
            column = self.error_marker.column
            if column is not None:
                self.expression_edit.setCursorPosition(column - 1)

    def _on_formula_left(self) -> None:
        if not self.expression_edit.hasFocus():
            if self._debounce.isActive():
                self.apply_expression()
            self.session.seal_edits()

    def apply_params_text(self) -> bool:
        try:
            params = parse_params(self.params_edit.text())
        except ParamsError as exc:
            self.show_error(exc)
            return False
        spec = self.spec
        if params == dict(spec.params):
            self.show_error(None)
            return True
        new = dataclasses.replace(spec, params=params)
        if spec.preset is None and not spec.expression.strip():
            new = dataclasses.replace(new, expression=self.effective_expression(spec))
        return self._edit_surface(new, "Edit parameters")

    def set_param(self, name: str, value: float) -> bool:
        spec = self.spec
        params = effective_params(spec)
        params[name] = float(value)
        return self._edit_surface(
            dataclasses.replace(spec, params=params),
            f"Change {name}",
            merge_key=f"surface.param.{name}",
        )

    def _on_domain(self) -> None:
        xmin, xmax, ymin, ymax = (spin.value() for spin in self.domain_spins)
        if not (xmin < xmax and ymin < ymax):
            reason = "the domain needs x min < x max and y min < y max"
        elif self._edit_surface(
            dataclasses.replace(self.spec, domain=(xmin, xmax, ymin, ymax)),
            "Change domain",
            merge_key="surface.domain",
        ):
            return
        else:
            reason = self.error_text or "the domain was refused"
        # Refused: the fields show the model's domain again (a value left in a field the model
        # does not hold would make every later domain edit carry it and be refused too).
        self._show_domain()
        self.show_error(f"domain not changed: {reason}")

    def _show_domain(self) -> None:
        for spin, value in zip(self.domain_spins, self.effective_domain(), strict=True):
            if spin.value() != value:
                with QSignalBlocker(spin):
                    spin.setValue(value)

    def _on_height(self, index: int) -> None:
        mode = self.height_combo.itemData(index)
        self._edit_surface(dataclasses.replace(self.spec, height=mode), "Height scale")

    def _on_preset_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if not self.pick_preset(name):
            self._show_preset(self.spec)  # refused: show the model's preset again

    def pick_preset(self, name: str | None) -> bool:
        """Switch to preset `name` (None: Custom) as one undo step; see the module docstring."""
        self._debounce.stop()
        self.session.seal_edits()  # a pick is a step of its own, never merged with typing
        scene = self.session.scene
        spec = scene.surface
        if name is None:
            if spec.preset is None:
                return True
            if getattr(preset_of(spec), "data_fit", False):
                self.show_error(
                    "a data-fit surface needs its data rows: edit its formula "
                    "instead of switching to Custom"
                )
                return False
            # The same formula, now the user's: it still uses the preset's parameters.
            new_spec = custom_surface(
                spec, self.effective_expression(spec), self.effective_domain()
            )
            return self._edit_surface(new_spec, "Custom surface")
        new_scene = pick_preset(scene, name)
        try:
            compiled = surface_if_compiled(new_scene.surface)
        except StudioError as exc:
            self.show_error(exc)
            return False
        if compiled is None:  # first use: compiled in the worker, then picked from the scene
            self.compiler.request(new_scene.surface, lambda: self.pick_preset(name))
            return True
        self.compiler.cancel()
        self.show_error(None)
        return self.session.edit_scene(new_scene, f"Preset {PRESETS[name].title}")

    # ------------------------------------------------------------------ model → widget

    def _show_preset(self, spec: SurfaceSpec) -> None:
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(
                self.preset_combo.findData(spec.preset)
                if spec.preset in PRESETS
                else self.preset_combo.count() - 1
            )

    def _refresh(self, scene: Scene) -> None:
        spec = scene.surface
        if spec == self._shown_spec:
            return  # a run or the steps changed: leave a half-typed formula alone
        self._shown_spec = spec
        self._debounce.stop()
        self._show_preset(spec)
        preset = PRESETS.get(spec.preset or "")
        data_fit = bool(getattr(preset, "data_fit", False))
        self.expression_edit.setToolTip(
            f"The loss of one data row in x, y and the row's u, v; the surface is its "
            f"{spec.reduction} over the {self.session.surface.n_rows} data rows"
            if data_fit
            else self._formula_help
        )
        self.data_panel.refresh(spec)
        expression = self.effective_expression(spec)
        if self.expression_edit.text() != expression:
            with QSignalBlocker(self.expression_edit):
                self.expression_edit.setText(expression)
                self.expression_edit.setCursorPosition(0)  # show the start of a long formula
        self.show_error(None)

        params = dict(spec.params) or (dict(preset.params) if preset is not None else {})
        with QSignalBlocker(self.params_edit):
            self.params_edit.setText(format_params(params))
        self._show_params(params)

        self._show_domain()
        with QSignalBlocker(self.height_combo):
            self.height_combo.setCurrentIndex(max(0, self.height_combo.findData(spec.height)))

    def _show_params(self, params: Mapping[str, float]) -> None:
        """Rebuild the parameter rows only when the names change; else just set values."""
        if list(params) != list(self._param_rows):
            for row in self._param_rows.values():
                self._params_layout.removeWidget(row)
                row.hide()
                row.deleteLater()
            self._param_rows = {
                name: ParamRow(name, float(value), self) for name, value in params.items()
            }
            for row in self._param_rows.values():
                self._params_layout.addWidget(row)
        else:
            for name, value in params.items():
                self._param_rows[name].set_value(float(value))
        self._params_box.setVisible(bool(params))

    def _show_surface(self, surface: Surface) -> None:
        dfdx, dfdy = surface.gradient_text
        self.gradient_label.setText(
            f"∂f/∂x = {gradient_display(dfdx)}\n∂f/∂y = {gradient_display(dfdy)}"
        )
        whole = f"∂f/∂x = {dfdx}\n∂f/∂y = {dfdy}"
        self.gradient_label.setToolTip(
            whole if len(whole) <= GRADIENT_TOOLTIP_CHARS else whole[:GRADIENT_TOOLTIP_CHARS] + " …"
        )
        # The domain may come from the surface (spec.domain None): show it.
        if self._shown_spec is not None and self._shown_spec.domain is None:
            self._show_domain()
        self._show_undefined(surface)

    def _show_undefined(self, surface: Surface) -> None:
        """The note 'f is undefined on part of the domain', while it is."""
        measure = getattr(surface, "undefined_share", None)  # a network landscape has none
        share = float(measure()) if measure is not None else 0.0
        self.undefined_note.setText(undefined_note(share))
        self.undefined_note.setVisible(share > 0.0)

    @property
    def undefined_text(self) -> str:
        """The note as shown ('' while hidden)."""
        return self.undefined_note.text() if self.undefined_note.isVisibleTo(self) else ""
