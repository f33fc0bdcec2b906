"""What the desktop and the software centres read agrees with the app: one id, one version, one icon, and
the screenshots it names exist."""

import configparser
import os
import subprocess
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


ROOT = Path(__file__).resolve().parents[1]
RAW = "https://raw.githubusercontent.com/vramscope/vramscope/main/"


def test_the_version_is_written_once() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "desktop/vramscope/__init__.py"
    from importlib.metadata import version

    assert version("vramscope") == __version__


def test_the_readme_images_are_absolute_and_exist() -> None:
    import re

    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert images
    for url in images:
        assert url.startswith(RAW), url  # PyPI shows the README without the repository beside it
        assert (ROOT / url.removeprefix(RAW)).is_file(), url


def test_a_window_entry_point_beside_the_command() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["vramscope"] == "vramscope.cli:main"
    assert project["gui-scripts"]["vramscope-gui"] == "vramscope.cli:gui_main"
    assert project["urls"]["Homepage"] and any(c.startswith("Programming Language") for c in project["classifiers"])


def install_desktop(tmp_path: Path, *args: str, path: str = "") -> "subprocess.CompletedProcess[str]":
    import subprocess

    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": f"{path}:/usr/bin:/bin" if path else "/usr/bin:/bin",
    }
    return subprocess.run(
        ["bash", str(PACKAGING / "install-desktop.sh"), *args], capture_output=True, text=True, env=env, check=False
    )


def test_the_menu_entry_starts_the_program_by_its_absolute_path(tmp_path: Path) -> None:
    folder = tmp_path / "my apps"  # a space, as in many home folders
    folder.mkdir()
    program = folder / "vramscope-gui"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    done = install_desktop(tmp_path, path=str(folder))
    assert done.returncode == 0, done.stderr
    entry = (tmp_path / "data" / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    assert f'Exec="{program}"' in entry.splitlines()


def test_the_installer_says_what_is_wrong_without_a_program(tmp_path: Path) -> None:
    done = install_desktop(tmp_path, "--exec")
    assert done.returncode == 2 and "--exec needs the path" in done.stderr
    done = install_desktop(tmp_path)
    assert done.returncode == 2 and "not on the PATH yet" in done.stderr
