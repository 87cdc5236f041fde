#!/usr/bin/env bash
# Builds raftkv with AddressSanitizer + UndefinedBehaviorSanitizer and runs the whole test suite.
# Usage: scripts/test.sh [extra ctest arguments]
# Set RAFTKV_SOAK=1 to also run the long soaks (many more simulation seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan "$@"
