#!/usr/bin/env bash
# Vendors the uPlot chart library (MIT, github.com/leeoniya/uPlot) that report.html embeds,
# from npm: the minified script, its stylesheet and its licence, into models/report/assets/uplot.
# usage: scripts/vendor-uplot.sh [VERSION]     (default: the version vendored now, 1.6.32)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-1.6.32}
work=$(mktemp -d)
(cd "$work" && npm pack --silent "uplot@$version" >/dev/null && tar xzf uplot-*.tgz)
cp "$work"/package/dist/uPlot.iife.min.js "$work"/package/dist/uPlot.min.css "$work"/package/LICENSE models/report/assets/uplot/
echo "$version" > models/report/assets/uplot/VERSION
echo "vendored uPlot $version into models/report/assets/uplot"
