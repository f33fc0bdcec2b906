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
exec_path=vramscope

case "${1:-}" in
  --uninstall)
    rm -f "$data/applications/$id.desktop" "$data/metainfo/$id.metainfo.xml" \
      "$data"/icons/hicolor/*/apps/"$id".png "$data/icons/hicolor/scalable/apps/$id.svg"
    echo "removed VRAM Scope from the application menu"
    exit 0 ;;
  --exec) exec_path="$2" ;;
  "") ;;
  *) echo "usage: $0 [--exec PATH | --uninstall]" >&2; exit 2 ;;
esac
if [ "$exec_path" = vramscope ] && ! command -v vramscope >/dev/null; then
  echo "warning: vramscope is not on the PATH yet (uv tool install . / pipx install .)" >&2
fi

mkdir -p "$data/applications" "$data/metainfo" "$data/icons/hicolor/scalable/apps"
sed "s|^Exec=.*|Exec=$exec_path|" "$here/$id.desktop" > "$data/applications/$id.desktop"
cp "$here/$id.metainfo.xml" "$data/metainfo/"
cp "$icons/vramscope.svg" "$data/icons/hicolor/scalable/apps/$id.svg"
for png in "$icons"/vramscope-*.png; do
  size="$(basename "$png" .png)"; size="${size#vramscope-}"
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$data/icons/hicolor/${size}x${size}/apps/$id.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "VRAM Scope is in the application menu ($data/applications/$id.desktop, Exec=$exec_path)"
