#!/usr/bin/env bash
# Runs a local Redis Cluster for SocialSync without containers: 3 masters with 1 replica each.
# usage: redis-cluster.sh DATA_DIR BASE_PORT   (nodes on BASE_PORT … BASE_PORT+5, cluster bus on each port + 10000)
# Starts the six redis-server processes in cluster mode, joins them with redis-cli --cluster create, and stays in the
# foreground until SIGTERM, which stops every node. Each start makes a new, empty cluster: the scheduler's index is
# rebuilt from PostgreSQL, so nothing of an earlier run needs keeping.
set -euo pipefail
data_dir=$1 base_port=$2
command -v redis-server >/dev/null || { echo "redis-server not found: install it with 'apt-get install -y redis-server'" >&2; exit 127; }

rm -rf "$data_dir"
mkdir -p "$data_dir"
pids=()
nodes=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 0' TERM INT
for i in 0 1 2 3 4 5; do
  port=$((base_port + i))
  redis-server --port "$port" --bind 127.0.0.1 --dir "$data_dir" \
    --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 \
    --save "" --appendonly no --logfile "$data_dir/redis-$port.log" &
  pids+=($!)
  nodes+=("127.0.0.1:$port")
done
for node in "${nodes[@]}"; do
  until redis-cli -p "${node#*:}" ping >/dev/null 2>&1; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "a redis-server exited; see $data_dir" >&2; exit 1; }; done
    sleep 0.1
  done
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes
# The nodes agree on the layout by gossip, a moment after the create.
until redis-cli -p "$base_port" cluster info | grep -q 'cluster_state:ok'; do sleep 0.2; done
echo "redis cluster ready on ports $base_port-$((base_port + 5))"
wait
