#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (each compiled in one module with Sources/Socks5, with
# -sanitize=fuzzer,address) and runs each on its seed corpus in Fuzz/corpus/NAME: for SECONDS
# (default 60) with a random seed, or with --runs N for N inputs from a fixed seed (what CI does:
# the same inputs every run, so a red CI means a real, reproducible crash). A crash leaves its
# input in .build/fuzz/ and fails the script; turn it into a regression test.
# Usage: scripts/fuzz.sh [SECONDS] | scripts/fuzz.sh --runs N
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --runs ]; then limit=(-seed=1 -runs="${2:?--runs N}"); label="${2} inputs, seed 1"
else seconds=${1:-60}; limit=(-max_total_time="$seconds"); label="$seconds s"; fi
out=.build/fuzz
mkdir -p "$out"
status=0
for target in FuzzReplyParsers FuzzDatagramHeader FuzzClientConfiguration; do
  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SocksFuzz \
    Sources/Socks5/*/*.swift "Fuzz/$target.swift" -o "$out/$target" 2>&1 | grep -v "warning:" || true
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: $label"
  if ! "$out/$target" "${limit[@]}" -artifact_prefix="$out/$target-" -print_final_stats=1 "$corpus" 2>"$out/$target.log"; then
    status=1
    echo "$target: CRASH, input in $out/$target-*" >&2
    tail -40 "$out/$target.log" >&2
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$target.log" | sed 's/^/   /'
done
exit $status
