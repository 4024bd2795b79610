#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (each compiled in one module with Sources/Socks5, or for
# FuzzServiceDecoders Sources/UDPChecks, for FuzzCapturedFrames Sources/PcapNG on Socks5, with
# -sanitize=fuzzer,address; FuzzDeckConfiguration also with TOMLKit, built here the same way
# from the checkout `swift build` made) and runs each on its seed corpus in Fuzz/corpus/NAME: for SECONDS
# (default 60) with a random seed, or with --runs N for N inputs from a fixed seed (what CI does:
# the same inputs every run, so a red CI means a real, reproducible crash). A crash leaves its
# input in .build/fuzz/ and fails the script; turn it into a regression test.
# Usage: scripts/fuzz.sh [SECONDS] | scripts/fuzz.sh --runs N   (FUZZ_TARGETS="A B" for some only)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --runs ]; then limit=(-seed=1 -runs="${2:?--runs N}"); label="${2} inputs, seed 1"
else seconds=${1:-60}; limit=(-max_total_time="$seconds"); label="$seconds s"; fi
out=.build/fuzz
mkdir -p "$out"
status=0
# Socks5 imports CSocketBatch (recvmmsg/sendmmsg wrappers, Sources/CSocketBatch): its module map
# for swiftc, and its object, instrumented like the rest, for every target that builds Socks5.
batch_include=(-I Sources/CSocketBatch/include)
# One package, as SwiftPM builds it, so that `package` declarations (Socks5's Duration words) are seen.
swiftc() { command swiftc -package-name socksdeck "$@"; }
clang -c -O1 -fsanitize=fuzzer-no-link,address "${batch_include[@]}" Sources/CSocketBatch/socket_batch.c -o "$out/socket_batch.o"
# TOMLKit (its C++ toml++ core and its Swift layer) and Socks5 as instrumented modules, for the
# TOML loader's target: coverage then guides the fuzzer through the TOML parser too.
build_deck_configuration_target() {
  local tk=.build/checkouts/TOMLKit/Sources o="$out/modules"
  [ -d "$tk" ] || swift package resolve >/dev/null
  mkdir -p "$o"
  for f in "$tk"/CTOML/Sources/*.cpp; do
    clang++ -c -O1 -std=c++17 -fsanitize=fuzzer-no-link,address -DTOML_EXCEPTIONS=1 -I "$tk/CTOML/include" \
      "$f" -o "$o/ctoml-$(basename "$f" .cpp | tr -c 'A-Za-z0-9\n' _).o"
  done
  local sources=()   # TOMLKit has folders with spaces in their names
  while IFS= read -r -d '' f; do sources+=("$f"); done < <(find "$tk/TOMLKit" -name '*.swift' -print0)
  swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name TOMLKit -I "$tk/CTOML/include" \
    -emit-module -emit-module-path "$o/TOMLKit.swiftmodule" -c "${sources[@]}" -o "$o/TOMLKit.o"
  swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name Socks5 "${batch_include[@]}" \
    -emit-module -emit-module-path "$o/Socks5.swiftmodule" -c Sources/Socks5/*/*.swift -o "$o/Socks5.o"
  cp "$out/socket_batch.o" "$o/"
  swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name UDPChecks \
    -emit-module -emit-module-path "$o/UDPChecks.swiftmodule" -c Sources/UDPChecks/*.swift -o "$o/UDPChecks.o"
  swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SocksFuzz -I "$o" -I "$tk/CTOML/include" \
    "${batch_include[@]}" \
    Sources/SocksDeckEngine/Configuration/*.swift Sources/SocksDeckEngine/Forward/ForwardSpec.swift \
    Sources/SocksDeckEngine/Checks/CheckKind.swift \
    Fuzz/FuzzDeckConfiguration.swift "$o"/*.o -lstdc++ \
    -o "$out/FuzzDeckConfiguration"
}

for target in ${FUZZ_TARGETS:-FuzzReplyParsers FuzzDatagramHeader FuzzClientConfiguration FuzzDeckConfiguration FuzzServiceDecoders FuzzCapturedFrames}; do
  if [ "$target" = FuzzDeckConfiguration ]; then
    build_deck_configuration_target 2>&1 | grep -v "warning:" || true
  elif [ "$target" = FuzzCapturedFrames ]; then
    # The capture frames of `send --replay` and the packets SocksDeck writes (Sources/PcapNG, on Socks5).
    o="$out/modules-pcapng"
    mkdir -p "$o"
    swiftc -O -wmo -sanitize=fuzzer,address -parse-as-library -module-name Socks5 "${batch_include[@]}" \
      -emit-module -emit-module-path "$o/Socks5.swiftmodule" -c Sources/Socks5/*/*.swift -o "$o/Socks5.o" 2>&1 \
      | grep -v "warning:" || true
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SocksFuzz -I "$o" "${batch_include[@]}" \
      Sources/PcapNG/*.swift "Fuzz/$target.swift" "$o/Socks5.o" "$out/socket_batch.o" -o "$out/$target" 2>&1 \
      | grep -v "warning:" || true
  elif [ "$target" = FuzzServiceDecoders ]; then
    # The DNS, NTP and STUN codecs of `socksdeck check` (Sources/UDPChecks, standard library only).
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SocksFuzz \
      Sources/UDPChecks/*.swift "Fuzz/$target.swift" -o "$out/$target" 2>&1 | grep -v "warning:" || true
  else
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name SocksFuzz "${batch_include[@]}" \
      Sources/Socks5/*/*.swift "$out/socket_batch.o" "Fuzz/$target.swift" -o "$out/$target" 2>&1 \
      | grep -v "warning:" || true
  fi
  corpus="$out/corpus-$target"
  mkdir -p "$corpus"
  cp Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: $label"
  extra=()
  # TOMLKit 0.6.0 leaks on every parse error (TOMLTable(string:) throws after allocating; found
  # by this target on its first run) and on every string read (CTOML's strdup): not SocksDeck's
  # to fix, and a leak report would stop the run at the first input. Crashes still stop it.
  # (-detect_leaks=0 for each input, ASAN_OPTIONS for the check at exit.)
  asan_options=${ASAN_OPTIONS:-}
  [ "$target" = FuzzDeckConfiguration ] && extra=(-detect_leaks=0) && asan_options=detect_leaks=0
  if ! ASAN_OPTIONS=$asan_options "$out/$target" "${limit[@]}" "${extra[@]}" -artifact_prefix="$out/$target-" -print_final_stats=1 "$corpus" 2>"$out/$target.log"; then
    status=1
    echo "$target: CRASH, input in $out/$target-*" >&2
    tail -40 "$out/$target.log" >&2
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$target.log" | sed 's/^/   /'
done
exit $status
