#!/usr/bin/env bash
# Every C++ file of the tree (src, bench, tests) must be as clang-format leaves it, with the
# repository's .clang-format. Run by scripts/test.sh; to fix: scripts/check_format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cpp' '*.hpp')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  echo "formatted ${#files[@]} files"
  exit 0
fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/clang-format-check.$$; then
  grep -E "^[^ ].*: (warning|error):" /tmp/clang-format-check.$$ | cut -d: -f1 | sort | uniq -c | sed 's/^/  not formatted: /' >&2
  rm -f /tmp/clang-format-check.$$
  echo "clang-format check FAILED: run scripts/check_format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/clang-format-check.$$
echo "clang-format: ${#files[@]} files formatted as .clang-format says"
