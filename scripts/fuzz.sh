#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/ (address sanitizer,
# coverage of the Swift parsers and the C PNG shim) and runs each for
# SECONDS (default 60) from a copy of its committed seed corpus, with its
# dictionary where there is one. Prints executions, exec/s and findings per
# target; exits non-zero if any target found a crash, leak or timeout
# (reproducers in .build-fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(png jpeg npy safetensors pth json toml theme manifest labels)
scratch=.build-fuzz
swift build -c release --package-path Fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address >&2
bin="$(swift build -c release --package-path Fuzz --scratch-path "$scratch" --show-bin-path)"
mkdir -p "$scratch/artifacts"
failed=0
printf '%-12s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
    work="$scratch/corpus/$t"
    mkdir -p "$work"
    cp -n Fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    dict=()
    [ -f "Fuzz/$t.dict" ] && dict=(-dict="Fuzz/$t.dict")
    log="$scratch/$t.log"
    status=0
    "$bin/fuzz-$t" "$work" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$scratch/artifacts/$t-" -print_final_stats=1 >"$log" 2>&1 || status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    if [ "$status" -eq 0 ]; then result="no finding"; else result="FINDING (exit $status): see $log"; failed=1; fi
    printf '%-12s %12s %10s  %s\n' "$t" "$runs" "$rate" "$result"
done
exit "$failed"
