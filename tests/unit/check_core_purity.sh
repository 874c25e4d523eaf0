#!/usr/bin/env bash
# Fails when src/core includes an I/O library or reads a clock (see docs/architecture.md).
set -u
dir="${1:?usage: check_core_purity.sh SRC_CORE_DIR}"
pattern='#include *[<"](boost/asio|boost/beast|lmdb\.h|hiredis|unbound\.h|pcap|fstream|thread>|sys/socket\.h|libpsl\.h|spdlog)'
bad=$(grep -rnE "$pattern" "$dir" --include='*.hpp' --include='*.cpp' --include='*.h' --include='*.in')
clock=$(grep -rnE '::now\(\)|\btime\(nullptr\)|\btime\(NULL\)|gettimeofday|clock_gettime' "$dir" \
  --include='*.hpp' --include='*.cpp' --include='*.h')
if [ -n "$bad$clock" ]; then
  echo "src/core must not do I/O or read clocks:"
  [ -n "$bad" ] && echo "$bad"
  [ -n "$clock" ] && echo "$clock"
  exit 1
fi
echo "core purity: ok ($(find "$dir" -name '*.cpp' -o -name '*.hpp' | wc -l) files checked)"
