#!/usr/bin/env bash
# Times raftkv-lincheck on every labelled porcupine history: the median of three runs of the
# checker's own timer (parsing excluded), printed as a Markdown table.
#
#   [ONLY=REGEX] tools/lincheck/time_porcupine.sh BUILD_DIR/tools/lincheck/raftkv-lincheck [FLAGS...]
#
# ONLY restricts the run to files whose path matches the extended regex (e.g. ONLY='kv/c(01|10)').
set -euo pipefail
tool=${1:?usage: $0 PATH_TO_RAFTKV_LINCHECK [FLAGS...]}
shift
data_dir=$(cd "$(dirname "$0")/../../testdata/porcupine" && pwd)

echo "| file | operations | verdict | median ms | search nodes |"
echo "|---|---:|---|---:|---:|"
tail -n +2 "$data_dir/expected_verdicts.csv" | while IFS=, read -r file expected _; do
  [[ $expected == none ]] && continue
  [[ -n ${ONLY:-} && ! $file =~ $ONLY ]] && continue
  times=()
  for _ in 1 2 3; do
    set +e
    out=$("$tool" "$@" "$data_dir/$file")
    set -e
    times+=("$(sed -n 's/^verdict: .* (\([0-9.]*\) ms, .*/\1/p' <<<"$out")")
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
  ops=$(sed -n 's/.*model, \([0-9]*\) operations.*/\1/p' <<<"$out")
  verdict=$(sed -n 's/^verdict: \(.*\) (.*/\1/p' <<<"$out")
  nodes=$(sed -n 's/^verdict: .*, \([0-9]*\) search nodes)/\1/p' <<<"$out")
  echo "| $file | $ops | $verdict | $median | $nodes |"
done
