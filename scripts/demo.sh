#!/usr/bin/env bash
# Builds raftkv (release) and runs the main job: a local three-node cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/tools/raftkv demo "$@"
