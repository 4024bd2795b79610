#!/usr/bin/env bash
# Generates the documentation that is not written by hand, into .build/docs/:
#   man/socksdeck.1          the manual (swift-argument-parser's generate-manual plugin)
#   completions/             bash, zsh and fish completions (socksdeck --generate-completion-script)
#   Socks5.doccarchive       the Swift library's DocC documentation (swift-docc-plugin)
# The first run builds the plugins in release mode: a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/docs
mkdir -p "$out/man" "$out/completions"
swift build --product socksdeck
bin=$(swift build --show-bin-path)
for shell in bash zsh fish; do
  "$bin/socksdeck" --generate-completion-script "$shell" > "$out/completions/socksdeck.$shell"
done
swift package --allow-writing-to-directory "$out" generate-manual --output-directory "$out/man"
swift package --allow-writing-to-directory "$out" generate-documentation --target Socks5 \
  --output-path "$out/Socks5.doccarchive" --disable-indexing
# What was generated must describe every subcommand.
for sub in ui servers associate send probe load watch serve decode getserv; do
  grep -q "$sub" "$out/man/socksdeck.1" || { echo "the manual lacks '$sub'" >&2; exit 1; }
  grep -q "$sub" "$out/completions/socksdeck.bash" || { echo "the bash completions lack '$sub'" >&2; exit 1; }
done
[ -d "$out/Socks5.doccarchive/data/documentation/socks5" ] || { echo "DocC archive incomplete" >&2; exit 1; }
echo "written: $out/man/socksdeck.1, $out/completions/socksdeck.{bash,zsh,fish}, $out/Socks5.doccarchive"
echo "read the manual with: man $out/man/socksdeck.1"
