#!/usr/bin/env bash
# The Native AOT footprint: publishes `edgestream` and the hosted sample (ASP.NET Core with EdgeStream.Hosting and
# EdgeStream.AspNetCore) natively and prints the binaries' sizes; then runs each natively and on the JIT build for
# the same time and prints each one's peak resident set (VmHWM, read from /proc just before the run ends):
# - `edgestream demo`: an in-process MQTT broker, five simulated devices, one shared stream, two rules;
# - the hosted sample: one configured rule, fed one reading per 10 ms over HTTP (curl) for the whole run.
# Usage: benchmarks/aot-footprint.sh [SECONDS]   (default 30; figures go in benchmarks/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

dotnet publish src/EdgeStream.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/native" >/dev/null
dotnet build src/EdgeStream.Cli -c Release -o "$out/jit" >/dev/null
dotnet publish samples/EdgeStream.HostedSample -c Release -r linux-x64 -p:PublishAot=true -o "$out/hosted-native" >/dev/null
dotnet build samples/EdgeStream.HostedSample -c Release -o "$out/hosted-jit" >/dev/null
echo "edgestream native binary: $(stat -c %s "$out/native/edgestream") bytes"
echo "hosted sample native binary: $(stat -c %s "$out/hosted-native/EdgeStream.HostedSample") bytes"

# Prints the peak RSS in kB of the process $1 after $seconds.
peak_after() {
  sleep "$((seconds - 1))"
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

demo_rss() {
  "$@" demo --duration "$seconds" >/dev/null 2>&1 &
  local pid=$! peak
  peak=$(peak_after "$pid")
  wait "$pid"
  echo "$peak"
}

hosted_rss() {
  local dir=$1 port=$((20000 + RANDOM % 20000)) peak
  shift
  (cd "$dir" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec "$@" >/dev/null 2>&1) &
  local pid=$!
  (
    end=$((SECONDS + seconds))
    while [ "$SECONDS" -lt "$end" ]; do
      curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"deviceId\": \"d$((RANDOM % 5))\", \"temperature\": $((RANDOM % 50))}" "http://127.0.0.1:$port/readings" || true
      sleep 0.01
    done
  ) &
  local feeder=$!
  peak=$(peak_after "$pid")
  kill -TERM "$pid"
  wait "$pid" || true
  kill "$feeder" 2>/dev/null || true
  echo "$peak"
}

echo "demo peak RSS, native: $(demo_rss "$out/native/edgestream") kB"
echo "demo peak RSS, JIT:    $(demo_rss dotnet "$out/jit/edgestream.dll") kB"
echo "hosted sample peak RSS, native: $(hosted_rss "$out/hosted-native" ./EdgeStream.HostedSample) kB"
echo "hosted sample peak RSS, JIT:    $(hosted_rss "$out/hosted-jit" dotnet EdgeStream.HostedSample.dll) kB"
