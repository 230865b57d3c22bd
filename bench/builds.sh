#!/usr/bin/env bash
# Builds benchmarks (bench/Builds.Bench): builds the Release silo, CLI and driver, then runs one benchmark, named first:
#   hook  (default) push hooks to the job on an agent with simulated build agents (--agents 100, --rounds 500, --warmup 50)
#   queue 10,000 builds queued, then 1,000 simulated agents × 2 slots offered at once: jobs/s and fairness across 10
#         repositories (--agents 1000, --slots 2, --builds 10000)
#   log   one step printing --mb MB (50) on a real agent, followed to its end, against a bare TCP floor (--rounds 3)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
for project in src/Silo src/Cli bench/Builds.Bench; do
    dotnet build "$repo/$project" -c Release -v q --nologo >/dev/null
done
exec dotnet "$repo/bench/Builds.Bench/bin/Release/net10.0/Platform.Builds.Bench.dll" "$@"
