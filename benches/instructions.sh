#!/usr/bin/env bash
# Instruction counts of the flow rows (callgrind), flowloop beside tokio current-thread: numbers
# that do not move with the machine's load or CPU, unlike the wall-clock ratios of
# `sched_profile`. Each row runs at `sched_profile --quick` sizes; flowloop is counted inside
# `Flow::run_until_complete`, tokio inside its runtime's `block_on`.
#
#   benches/instructions.sh            # every row
#   benches/instructions.sh cycle      # the rows whose name contains "cycle"
#   BIN=path/to/sched_profile benches/instructions.sh   # an already built binary (another commit)
#
# Columns: instructions of each side over the whole row (3 repetitions), flowloop's per unit of
# work (per node run, chunk, generation or run, as `sched_profile` reports the row), and the
# ratio flowloop / tokio. `flow_build` has no tokio side: it counts a 100,000-node chain's build
# and drop, per node.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "instructions.sh: valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 2
fi
filter="${1:-}"
bin="${BIN:-}"
if [ -z "$bin" ]; then
    cargo build --quiet --release -p flowloop-benches --example sched_profile
    bin=target/release/examples/sched_profile
fi
if [ ! -x "$bin" ]; then
    echo "instructions.sh: no sched_profile binary at $bin" >&2
    exit 2
fi

flow_fn='flowloop::flow::run::Flow::run_until_complete'
tokio_fn='tokio::runtime::scheduler::current_thread::CoreGuard::block_on*'

# Instructions callgrind collected inside function pattern $1 while running "$bin" with the
# remaining arguments (and the environment the caller set).
count() {
    local pattern=$1
    shift
    local out
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$pattern" \
        "$bin" "$@" 2>&1) || {
        echo "instructions.sh: $bin $* failed under valgrind:" >&2
        echo "$out" | tail -5 >&2
        exit 1
    }
    local n
    n=$(echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' | tail -1)
    if [ -z "$n" ] || [ "$n" = 0 ]; then
        echo "instructions.sh: nothing collected inside $pattern for $*" >&2
        exit 1
    fi
    echo "$n"
}

printf '%-16s %14s %14s %10s %-11s %8s\n' row flowloop tokio "per unit" "(flowloop)" ratio
matched=0
# name, units of work at --quick sizes (3 repetitions), unit: these follow the sizes in
# `rows_where` (benches/examples/sched_profile/flow_rows.rs); change both together.
for row in "flow_chain 3000 node-run" "flow_stream 60000 chunk" "flow_cycle 60000 generation" \
    "flow_small_run 6000 run" "flow_diamond 60000 node-run"; do
    set -- $row
    name=$1 units=$2 unit=$3
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    matched=$((matched + 1))
    fl=$(count "$flow_fn" --quick "$name")
    tk=$(count "$tokio_fn" --quick "$name")
    awk -v n="$name" -v f="$fl" -v t="$tk" -v u="$units" -v un="$unit" \
        'BEGIN { printf "%-16s %14d %14d %10.1f %-11s %8.3f\n", n, f, t, f / u, "per " un, f / t }'
done
case flow_build in *"$filter"*)
    matched=$((matched + 1))
    nodes=100000
    b=$(FLOWLOOP_FLOW_BUILD_CHILD=$nodes count 'sched_profile::flow_rows::flow_build')
    awk -v f="$b" -v u="$nodes" \
        'BEGIN { printf "%-16s %14d %14s %10.1f %-11s %8s\n", "flow_build", f, "-", f / u, "per node", "-" }'
    ;;
esac
if [ "$matched" = 0 ]; then
    echo "instructions.sh: no row's name contains '$filter' (rows: flow_chain flow_stream flow_cycle flow_small_run flow_diamond flow_build)" >&2
    exit 2
fi
