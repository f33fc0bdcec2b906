"""The scenario remembered between runs: saved on close, brought back at start; anything corrupt or
foreign in the file is ignored (settings_store has already dropped what must not be read)."""

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt

from vramscope.core.scenario import Engine, EngineSettings
from vramscope.core.units import Unit
from vramscope.sources.presets import find_preset, load_preset

if TYPE_CHECKING:
    from vramscope.gui.main_window import MainWindow


def save_scenario(window: "MainWindow", settings: QSettings) -> None:
    c = window.controller
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("model", find_preset(c.model.name) or "")
    settings.setValue("workload", c.workload.model_dump_json())
    settings.setValue("gpu_count", str(c.gpu_count))
    settings.setValue("engine", c.engine.value)
    settings.setValue("engine_settings", c.settings.model_dump_json(exclude={"calibration"}))
    settings.setValue("unit", c.unit.value)
    settings.setValue("gpu_choice", json.dumps(window.gpu_panel.choice()))
    settings.setValue("view", window.tab_title(window.views.currentIndex()))


def restore_settings(window: "MainWindow", settings: QSettings) -> None:
    """Bring back the last scenario; anything corrupt or foreign is ignored."""
    c = window.controller
    try:
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        preset = settings.value("model")
        if isinstance(preset, str) and find_preset(preset):
            c.set_model(load_preset(find_preset(preset) or preset))
        workload = settings.value("workload")
        if isinstance(workload, str):
            fields = json.loads(workload)
            if isinstance(fields, dict):
                c.set_workload(
                    **{
                        k: v
                        for k, v in fields.items()
                        if k in ("context", "batch", "weight_format", "kv_dtype", "images")
                    }
                )
        engine = settings.value("engine")
        if engine in {e.value for e in Engine}:
            c.set_engine(Engine(str(engine)))
        knobs = settings.value("engine_settings")
        if isinstance(knobs, str):
            fields = json.loads(knobs)
            if isinstance(fields, dict):
                c.set_engine_settings(**{k: v for k, v in fields.items() if k in EngineSettings.model_fields})
        choice = settings.value("gpu_choice")
        if isinstance(choice, str):
            fields = json.loads(choice)
            if isinstance(fields, dict):
                window.gpu_panel.restore_choice(fields)
        count = settings.value("gpu_count")
        if count is not None and str(count).isdigit() and not c.mixed_gpus:
            c.set_gpu_count(min(64, max(1, int(str(count)))))
        if settings.value("unit") == Unit.GB.value:
            window.gb_action.setChecked(True)
            c.set_unit(Unit.GB)
        view = settings.value("view")
        if isinstance(view, str):
            window.show_view(view)
    except Exception:  # settings from another version or a broken file: start from the defaults
        window.statusBar().showMessage("The saved settings could not be read; starting from the defaults", 5000)
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
