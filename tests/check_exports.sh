#!/bin/sh
# The module exports exactly one symbol: the entry function.
set -eu
so="$1"
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort)
if [ "$syms" != "ms_module_get" ]; then
  echo "check_exports: FAIL: $so exports:"; echo "$syms"; exit 1
fi
echo "check_exports: 1 passed, 0 failed"
