#!/usr/bin/env bash
# Put VRAM Scope in the application menu of this user: the .desktop entry, the icon in every size and the
# AppStream metadata, under ~/.local/share (or $XDG_DATA_HOME). Run it after `uv tool install .` or
# `pipx install .` (which put `vramscope` on the PATH), or pass the path of a PyInstaller bundle's binary:
#   packaging/install-desktop.sh [--exec /path/to/vramscope]   |   packaging/install-desktop.sh --uninstall
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
icons="$here/../resources/icons"
id=io.github.vramscope.VramScope
data="${XDG_DATA_HOME:-$HOME/.local/share}"
usage="usage: $0 [--exec PATH | --uninstall]"
exec_path=""

case "${1:-}" in
  --uninstall)
    rm -f "$data/applications/$id.desktop" "$data/metainfo/$id.metainfo.xml" \
      "$data"/icons/hicolor/*/apps/"$id".png "$data/icons/hicolor/scalable/apps/$id.svg"
    echo "removed VRAM Scope from the application menu"
    exit 0 ;;
  --exec)
    if [ -z "${2:-}" ]; then echo "--exec needs the path of the vramscope program; $usage" >&2; exit 2; fi
    exec_path="$2" ;;
  "") ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
# The menu starts the program without the shell's PATH (~/.local/bin is often missing there): write the
# absolute path, the window-only program first (no console window on Windows-like desktops)
if [ -z "$exec_path" ]; then
  exec_path="$(command -v vramscope-gui || command -v vramscope || true)"
fi
if [ -z "$exec_path" ]; then
  echo "vramscope is not on the PATH yet: install it first (uv tool install . / pipx install .), or pass --exec PATH" >&2
  exit 2
fi
case "$exec_path" in /*) ;; *) exec_path="$PWD/$exec_path" ;; esac
if [ ! -x "$exec_path" ]; then echo "$exec_path is not an executable program; $usage" >&2; exit 2; fi
# Desktop Entry Specification: a quoted argument, ", `, $ and \ escaped by a backslash, written as "\\" in a
# string value (so a backslash is four); sed's own replacement needs \, & and | escaped once more
quoted="\"$(printf '%s' "$exec_path" | sed 's/\\/\\\\\\\\/g; s/["`$]/\\\\&/g')\""
replacement="$(printf '%s' "$quoted" | sed 's/[\\&|]/\\&/g')"

mkdir -p "$data/applications" "$data/metainfo" "$data/icons/hicolor/scalable/apps"
sed "s|^Exec=.*|Exec=$replacement|" "$here/$id.desktop" > "$data/applications/$id.desktop"
cp "$here/$id.metainfo.xml" "$data/metainfo/"
cp "$icons/vramscope.svg" "$data/icons/hicolor/scalable/apps/$id.svg"
for png in "$icons"/vramscope-*.png; do
  size="$(basename "$png" .png)"; size="${size#vramscope-}"
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$data/icons/hicolor/${size}x${size}/apps/$id.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "VRAM Scope is in the application menu ($data/applications/$id.desktop, Exec=$quoted)"
