#!/usr/bin/env bash
# Runs every test of the repository, on a machine that has only the .NET SDK.
# It installs what the tests need first, from Debian's packages when missing: MariaDB (the MySQL sink's tests start
# their own server) and Mosquitto (the MQTT tests start their own brokers on free ports; the package's own service,
# where an init system starts it, listens on 1883 and is not used), a C toolchain and zlib for the Native AOT test,
# then NuGet packages through restore.
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Parser".
set -euo pipefail
cd "$(dirname "$0")"

# Installs Debian packages with apt-get (through sudo when not root), updating the package lists only if needed.
apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "installing mariadb-server (Debian package) for the MySQL sink tests"
  apt_install mariadb-server
fi

if [ ! -x /usr/sbin/mosquitto ]; then
  echo "installing mosquitto (Debian package) for the MQTT tests"
  apt_install mosquitto
fi

# The Native AOT test publishes `edgestream` natively: the ILCompiler package comes through restore, the native
# linker needs a C toolchain (clang, or gcc) and zlib's headers.
if ! command -v clang >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1; then
  echo "installing clang (Debian package) for the Native AOT test"
  apt_install clang
fi

if [ ! -f /usr/include/zlib.h ]; then
  echo "installing zlib1g-dev (Debian package) for the Native AOT test"
  apt_install zlib1g-dev
fi

dotnet restore EdgeStream.sln
dotnet build EdgeStream.sln -c Release --no-restore
rm -rf TestResults

# One run per test project, each with its own results file (one shared name would be overwritten), so the counts
# `.ci/run` adds up cover every project; a failing project fails the script after the others have run.
status=0
for project in tests/*/*.Tests.csproj; do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory TestResults "$@" || status=1
done
exit "$status"
