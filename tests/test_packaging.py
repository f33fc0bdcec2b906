"""What the desktop and the software centres read agrees with the app: one id, one version, one icon, and
the screenshots it names exist."""

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

from vramscope import __version__
from vramscope.gui.about import APP_ID
from vramscope.gui.app import ICON_SIZES
from vramscope.resources import resources_dir

PACKAGING = Path(__file__).resolve().parents[1] / "packaging"


def test_the_desktop_entry_launches_the_command_under_the_apps_id() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / f"{APP_ID}.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert (section["Name"], section["Exec"], section["Icon"]) == ("VRAM Scope", "vramscope", APP_ID)


def test_the_metainfo_names_this_version_and_shipped_screenshots() -> None:
    root = ET.parse(PACKAGING / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"  # type: ignore[union-attr]
    assert root.find("releases/release").get("version") == __version__  # type: ignore[union-attr]
    assert root.find("content_rating").get("type") == "oars-1.1"  # type: ignore[union-attr]
    for image in root.iter("image"):
        assert (PACKAGING / "screenshots" / Path(image.text or "").name).is_file()


def test_every_icon_size_is_shipped_with_the_package() -> None:
    icons = resources_dir() / "icons"
    assert (icons / "vramscope.svg").is_file()
    for size in ICON_SIZES:
        assert (icons / f"vramscope-{size}.png").stat().st_size > 100
