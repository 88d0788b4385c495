#!/bin/bash
# lanes_vs_pairs.sh BOOTSTRAP BIN N WORKERS GROUP
# N contactgate processes (each with WORKERS lanes and its own consumer and producer) in one
# group drain the 6-partition topic contacts.upsert; prints the drain time (from start to the
# group's committed offsets at the end, group join included) and the CPU seconds of all N.
# Compares one consumer feeding 2 lanes (N=1 WORKERS=2) with 2 independent consumer+producer
# pairs (N=2 WORKERS=1). bench/README.md, "End-to-end after the pipeline core rebuild".
# Needs /usr/bin/python3 with python3-confluent-kafka.
set -u
B=$1; BIN=$2; N=$3; W=$4; G=$5
pids=()
for i in $(seq 1 $N); do
  $BIN run -b $B -g $G --set http.port=0 --set pipeline.workers=$W --set kafka.group_instance_id=$G-$i > /tmp/lanes_vs_pairs-$G-$i.log 2>&1 &
  pids+=($!)
done
t0=$(date +%s.%N)
while true; do
  sleep 0.25
  lag=$(/usr/bin/python3 - "$B" "$G" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c=Consumer({"bootstrap.servers":sys.argv[1],"group.id":sys.argv[2]})
tps=[TopicPartition("contacts.upsert",p) for p in range(6)]
com=c.committed(tps,timeout=10)
lag=0
for tp in com:
    lo,hi=c.get_watermark_offsets(tp,timeout=10)
    lag+=hi-(tp.offset if tp.offset>=0 else 0)
print(lag)
PY
)
  [ "$lag" = "0" ] && break
done
t1=$(date +%s.%N)
cpu=0; for p in "${pids[@]}"; do c=$(awk '{print ($14+$15)/100}' /proc/$p/stat); cpu=$(echo "$cpu + $c" | bc); done
for p in "${pids[@]}"; do kill -TERM $p; done; wait
echo "N=$N workers=$W: drained in $(echo "$t1 - $t0" | bc) s, cpu ${cpu} s"
