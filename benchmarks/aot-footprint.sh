#!/usr/bin/env bash
# The Native AOT footprint of `edgestream`: publishes it natively, prints the binary's size, then runs the demo
# (in-process MQTT broker, simulated devices, two rules) natively and on the JIT build for the same time and prints
# each one's peak resident set (VmHWM, read from /proc just before the run ends).
# Usage: benchmarks/aot-footprint.sh [SECONDS]   (default 30; figures go in benchmarks/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

dotnet publish src/EdgeStream.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/native" >/dev/null
dotnet build src/EdgeStream.Cli -c Release -o "$out/jit" >/dev/null
echo "native binary: $(stat -c %s "$out/native/edgestream") bytes"

# Runs a command for $seconds and prints its peak RSS in kB.
peak_rss() {
  "$@" demo --duration "$seconds" >/dev/null 2>&1 &
  local pid=$!
  sleep "$((seconds - 1))"
  local peak
  peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
  wait "$pid"
  echo "$peak"
}

echo "demo peak RSS, native: $(peak_rss "$out/native/edgestream") kB"
echo "demo peak RSS, JIT:    $(peak_rss dotnet "$out/jit/edgestream.dll") kB"
