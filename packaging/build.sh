#!/usr/bin/env bash
# Build the one-folder app with PyInstaller into build/dist/vramscope, then smoke-test it offscreen:
# --version, `estimate --json` and `--screenshot` from the bundle. Prints the bundle's size.
set -euo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
uv run --with "pyinstaller>=6.10" pyinstaller --noconfirm --log-level WARN \
  --distpath build/dist --workpath build/work packaging/vramscope.spec

bundle=build/dist/vramscope/vramscope
[ -x "$bundle" ] || bundle=build/dist/vramscope/vramscope.exe
export QT_QPA_PLATFORM=offscreen
"$bundle" --version
"$bundle" estimate llama-3.1-8b --gpu rtx-4090 --json > build/bundle-estimate.json
python3 -c "import json,sys; d=json.load(open('build/bundle-estimate.json')); sys.exit(0 if d['fits'] else 1)"
"$bundle" --screenshot build/bundle-shot.png llama-3.1-8b --gpu rtx-4090
echo "bundle: $(du -sh build/dist/vramscope | cut -f1) in build/dist/vramscope; smoke test passed"
