#!/usr/bin/env bash
# Copy the pinned front-end packages (gateway/web/package-lock.json, installed by `npm ci`)
# into gateway/web/static/vendor/, which is gitignored: the app serves them itself, no CDN.
set -euo pipefail
web="$(cd "$(dirname "$0")/../gateway/web" && pwd)"
src="$web/node_modules"; out="$web/static/vendor"
rm -rf "$out"; mkdir -p "$out/leaflet"
cp "$src/htmx.org/dist/htmx.min.js" "$out/htmx.min.js"
cp "$src/htmx-ext-sse/sse.js" "$out/htmx-ext-sse.js"
cp "$src/leaflet/dist/leaflet.js" "$src/leaflet/dist/leaflet.css" "$out/leaflet/"
cp -r "$src/leaflet/dist/images" "$out/leaflet/images"
cp "$src/chart.js/dist/chart.umd.js" "$out/chart.umd.js"
echo "web: vendored into $out"
