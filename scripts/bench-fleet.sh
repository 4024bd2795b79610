#!/usr/bin/env bash
# scripts/bench.sh --fleet: vetting 10,000 proxies about 50 ms away, in a network namespace of its
# own (unshare -n, so nothing leaves it): one `socksdeck serve --listen 0.0.0.0:1080 --allow-remote
# --latency 50` answers on every 127.x.y.z:1080 (all of 127/8 is the namespace's loopback), dnsmasq
# answers DNS on 127.0.0.1:53 (peers/dns/dnsmasq.conf), and `socksdeck check --servers-from LIST
# --dns 127.0.0.1 --name socksdeck.test --json` vets them all, a DNS round trip each. Records wall
# time, the CPU time of the client and of the relay, the parallelism used and every verdict, in
# Benchmarks/fleet.md. Needs root (a namespace) and scripts/setup.sh (dnsmasq).
# Usage: scripts/bench.sh --fleet [COUNT]   (FLEET_COUNT, 10,000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-${FLEET_COUNT:-10000}}
bin=$(swift build -c release --show-bin-path)
if [ "${SOCKSDECK_FLEET_NAMESPACE:-}" != 1 ]; then
  exec unshare -n env SOCKSDECK_FLEET_NAMESPACE=1 bash "$0" "$count"
fi
ip link set lo up
ulimit -n "$(ulimit -Hn)"
dir=$(mktemp -d /tmp/socksdeck-fleet-XXXXXX)
pids=()
# Only what this script started, by pid; the namespace goes with the last process in it.
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
/usr/sbin/dnsmasq --keep-in-foreground --conf-file=peers/dns/dnsmasq.conf --port=53 \
  --listen-address=127.0.0.1 --bind-interfaces --log-facility=- --pid-file="$dir/dnsmasq.pid" \
  >"$dir/dnsmasq.log" 2>&1 &
pids+=($!)
# Every client connection comes from 127.0.0.1 here (the source the kernel picks for 127/8), so
# serve's per-client bounds, meant for hostile clients, are lifted: 1,024 at a time are honest.
"$bin/socksdeck" serve --listen 0.0.0.0:1080 --allow-remote --latency 50 \
  --max-negotiating-per-client 100000 --max-associations-per-client 100000 >"$dir/serve.log" 2>&1 &
serve_pid=$!
pids+=($serve_pid)
for _ in $(seq 100); do
  python3 -c 'import socket;socket.create_connection(("127.0.0.1",1080),1)' 2>/dev/null && break
  sleep 0.1
done
python3 - "$count" >"$dir/list" <<'PY'
import sys
n = int(sys.argv[1])
# 127.1.0.1 onwards: every address a proxy of its own, all answered by the one relay.
for i in range(n):
    print(f"127.1.{i // 250}.{1 + i % 250}:1080")
PY
cpu_ns() { local t=0; for f in /proc/"$1"/task/*/schedstat; do t=$((t + $(cut -d' ' -f1 "$f"))); done; echo $t; }
udp_errors() { awk '/^Udp:/ && ++n == 2 { print $4 + $6 }' /proc/net/snmp; }  # InErrors + RcvbufErrors
udp_before=$(udp_errors)
relay_before=$(cpu_ns "$serve_pid")
python3 - "$bin/socksdeck" "$dir" <<'PY' >"$dir/client.txt"
import json, os, resource, subprocess, sys, time
binary, d = sys.argv[1], sys.argv[2]
args = [binary, "check", "--servers-from", f"{d}/list", "--dns", "127.0.0.1", "--name", "socksdeck.test", "--json"]
if os.environ.get("FLEET_PARALLEL"):
    args += ["--parallel", os.environ["FLEET_PARALLEL"]]
start = time.monotonic()
p = subprocess.run(args, capture_output=True, text=True)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
verdicts = {}
for line in p.stdout.splitlines():
    try:
        v = json.loads(line).get("verdict", "?")
    except ValueError:
        continue
    verdicts[v] = verdicts.get(v, 0) + 1
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "exit": p.returncode,
                  "verdicts": verdicts, "stderr": p.stderr[-400:]}))
PY
relay_after=$(cpu_ns "$serve_pid")
udp_lost=$(( $(udp_errors) - udp_before ))
python3 - "$count" "$dir/client.txt" "$relay_before" "$relay_after" "$udp_lost" <<'PY' | tee Benchmarks/fleet.md
import json, os, subprocess, sys, time
n, path, before, after = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
udp_lost = int(sys.argv[5])
r = json.load(open(path))
relay = (after - before) / 1e9
limit = subprocess.run(["bash", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip()
parallel = int(os.environ.get("FLEET_PARALLEL") or min(n, 1024, max(1, (int(limit) - 64) // 3)))
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("## Vetting a list of proxies: `check --servers-from`, 50 ms away")
print()
print(f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}, {os.cpu_count()} cores ({model}), a network namespace of its own.")
print(f"{n:,} proxies (127.1.x.y:1080, one `socksdeck serve --latency 50` behind them all), each checked with a")
print("DNS query to dnsmasq through its own association: UDP ASSOCIATE and the query and answer each cost 100 ms")
print(f"of latency (50 ms each way), about 200 ms a proxy. Parallelism: {parallel} at a time (the default: the list,")
print(f"at most 1,024, and the descriptor limit {limit}).")
print()
print("| what | figure |")
print("|---|---:|")
print(f"| wall time | {r['wall']:.1f} s ({n / r['wall']:,.0f} proxies a second, {n / r['wall'] * 60:,.0f} a minute) |")
print(f"| client CPU (user + system) | {r['cpu']:.1f} s ({r['cpu'] / n * 1e6:,.0f} µs a proxy) |")
print(f"| relay CPU (`serve`, every thread) | {relay:.1f} s ({relay / n * 1e6:,.0f} µs a proxy) |")
print(f"| verdicts | {', '.join(f'{k} {v:,}' for k, v in sorted(r['verdicts'].items()))} |")
print(f"| exit code | {r['exit']} |")
print(f"| UDP datagrams the kernel dropped (full receive buffers, /proc/net/snmp) | {udp_lost:,} |")
right = r["verdicts"].get("works", 0) == n
print()
print(f"Target (issue 32): {n:,} vetted in ≤ 30 s, every verdict right: "
      f"{'met' if r['wall'] <= 30 and right else 'missed'} ({r['wall']:.1f} s, "
      f"{r['verdicts'].get('works', 0):,} of {n:,} work).")
if r["stderr"].strip():
    print()
    print("stderr (last lines): " + r["stderr"].strip().replace("\n", " / "))
PY
