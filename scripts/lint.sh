#!/usr/bin/env bash
# The layout: `swift format` with the repo's .swift-format (swift-nio-extras' settings, lines of
# 120), strict, over everything in Swift; then the one thing the formatter cannot fix, a string
# literal that runs a line in Sources/ past 120 characters. `swift format --in-place --recursive
# Sources Tests Benchmarks Fuzz Examples Package.swift` fixes all but that.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format lint --strict --recursive --parallel Sources Tests Benchmarks Fuzz Examples Package.swift
python3 - <<'PY'
import pathlib, sys
long = [(p, n, len(l)) for p in sorted(pathlib.Path("Sources").rglob("*.swift"))
        for n, l in enumerate(p.read_text(encoding="utf-8").split("\n"), 1) if len(l) > 120]
for p, n, width in long:
    print(f"{p}:{n}: {width} characters (at most 120)")
sys.exit(1 if long else 0)
PY
