#!/usr/bin/env bash
# Interleaved rounds of bench/train-throughput.ts (tune: native kernels 1 and 2 threads, wasm only) and
# bench/train_throughput_torch.py (torch on 1 core, torch's default on 2 cores, torch with 2 intra-op threads),
# so that every engine sees the same machine conditions. One JSON line per run on stdout.
# Usage: bash bench/throughput-series.sh [rounds=3] [configs="tiny 20m"] [modes="full lora"]
# Needs dist/bench/train-throughput.js (see the header of bench/train-throughput.ts) and /usr/bin/python3 with torch.
set -u
rounds=${1:-3}
configs=${2:-"tiny 20m"}
modes=${3:-"full lora"}
steps_for() { if [ "$1" = tiny ]; then echo 20; else echo 6; fi; }
for r in $(seq 1 "$rounds"); do
  for c in $configs; do
    for m in $modes; do
      s=$(steps_for "$c")
      tag() { sed "s/^{/{\"round\":$r,\"run\":\"$1\",/"; }
      TUNE_NATIVE_THREADS=1 node dist/bench/train-throughput.js "$m" "$c" "$s" | tag "tune native 1 thread"
      TUNE_NATIVE_THREADS=2 node dist/bench/train-throughput.js "$m" "$c" "$s" | tag "tune native 2 threads"
      TUNE_NATIVE=0 node dist/bench/train-throughput.js "$m" "$c" "$s" | tag "tune wasm only"
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/train_throughput_torch.py "$m" "$c" "$s" 1 | tag "torch 1 core"
      /usr/bin/python3 bench/train_throughput_torch.py "$m" "$c" "$s" 1 | tag "torch default (OpenBLAS 2 threads)"
      /usr/bin/python3 bench/train_throughput_torch.py "$m" "$c" "$s" 2 | tag "torch set_num_threads(2)"
    done
  done
done
