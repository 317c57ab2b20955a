#!/usr/bin/env bash
# Runs every test of the repository, on a machine that has only the .NET SDK.
# It installs what the tests need first: NuGet packages through restore. (The MySQL and MQTT sink tests will add
# MariaDB and Mosquitto here, from Debian packages, when their issues land.)
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Parser".
set -euo pipefail
cd "$(dirname "$0")"

dotnet restore EdgeStream.sln
dotnet build EdgeStream.sln -c Release --no-restore
rm -rf TestResults
dotnet test EdgeStream.sln -c Release --no-build \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory TestResults "$@"
