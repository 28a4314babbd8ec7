#!/usr/bin/env bash
# Renders a run folder's learning curves (curves.svg) in headless Chromium and saves a PNG, to look
# at what a browser shows without opening one:
#   scripts/screenshot_curves.sh RUN_DIR [OUT.png]      (default OUT: RUN_DIR/curves.png)
# Needs chromium (Debian: apt-get install -y chromium). The SVG is 900 x 420; the window is larger so
# nothing is cut off.
set -euo pipefail
run_dir="${1:?usage: scripts/screenshot_curves.sh RUN_DIR [OUT.png]}"
out="${2:-$run_dir/curves.png}"
svg="$(cd "$run_dir" && pwd)/curves.svg"
[ -f "$svg" ] || { echo "screenshot_curves: $svg does not exist (a run writes it after its first epoch)" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "screenshot_curves: no chromium found (apt-get install -y chromium)" >&2; exit 1; }
# --no-sandbox: Chromium refuses to run as root with its sandbox, as in containers and CI.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,600 \
  --screenshot="$out" "file://$svg" 2>/dev/null
echo "wrote $out"
