#!/usr/bin/env bash
# Apache Kafka 3.9.x, single node KRaft (broker+controller in one JVM).
# Jars come from Maven Central via infra/kafka/pom.xml (maven-dependency-plugin
# copy-dependencies) into $FS_DATA/opt/kafka/libs; data in $FS_DATA/kafka/data.
# Broker PLAINTEXT 127.0.0.1:9092, controller 127.0.0.1:9093.
# Holds: topics telemetry.samples.v1 / telemetry.dlq.v1 / activities.v1 / goals.v1
# (infra/kafka/topics.json). Memory: heap -Xmx512m (+ ~100MB metaspace/threads/direct
# buffers); the page cache does the rest.
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
KAFKA_HOME="$FS_OPT/kafka"
KAFKA_DIR="$FS_DATA/kafka"
KAFKA_LOGFILE="$FS_LOG/kafka.log"
KAFKA_POM="$FS_INFRA/kafka/pom.xml"
KAFKA_HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"

kafka_need() { need_cmd_or_pkg java openjdk-17-jre-headless; need_cmd_or_pkg mvn maven; }

kafka_java() { # kafka_java MAINCLASS ARGS... (foreground)
  java -Xmx256m -cp "$KAFKA_HOME/libs/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" "$@"
}

# A new KRaft cluster id in the format of `kafka-storage random-uuid` (16 random bytes, base64url, no padding)
# and, as Kafka's Uuid.randomUuid, never with a leading '-': StorageTool's argument parser reads `-t -x...` as
# an option ("argument --cluster-id/-t: expected one argument"), which failed 1 in 64 fresh installs.
kafka_cluster_id() {
  local id="-"
  while [[ "$id" == -* ]]; do id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"; done
  printf '%s' "$id"
}

kafka_install() {
  local stamp; stamp="$(sha256sum "$KAFKA_POM" | cut -c1-16)"
  if [[ "$(cat "$KAFKA_HOME/libs/.stamp" 2>/dev/null)" != "$stamp" ]]; then
    fs_log "kafka: fetching jars from Maven Central (infra/kafka/pom.xml)"
    rm -rf "$KAFKA_HOME/libs"; mkdir -p "$KAFKA_HOME/libs"
    mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_HOME/libs" >"$FS_LOG/kafka-install.log" 2>&1 \
      || { tail -n 30 "$FS_LOG/kafka-install.log" >&2; fs_die "kafka: maven fetch failed (log: $FS_LOG/kafka-install.log)"; }
    echo "$stamp" >"$KAFKA_HOME/libs/.stamp"
  fi
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=134217728
log.retention.check.interval.ms=300000
socket.request.max.bytes=104857600
message.max.bytes=8388608
CONF
  cat >"$KAFKA_DIR/log4j.properties" <<'CONF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.controller=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.org.apache.kafka.controller=WARN
CONF
  # KRaft: format the log dir once with a cluster id kept next to it.
  if [[ ! -s "$KAFKA_DIR/data/meta.properties" ]]; then
    if [[ ! -s "$KAFKA_DIR/cluster.id" || "$(head -c1 "$KAFKA_DIR/cluster.id")" == "-" ]]; then
      kafka_cluster_id >"$KAFKA_DIR/cluster.id"
    fi
    fs_log "kafka: formatting KRaft storage (cluster id $(cat "$KAFKA_DIR/cluster.id"))"
    kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster.id")" \
      -c "$KAFKA_DIR/server.properties" --ignore-formatted >>"$FS_LOG/kafka-install.log" 2>&1 \
      || fs_die "kafka: storage format failed (log: $FS_LOG/kafka-install.log)"
  fi
}

kafka_running() { pid_of kafka >/dev/null && port_open "$KAFKA_PORT"; }

kafka_start() {
  kafka_running && return 0
  port_open "$KAFKA_PORT" && fs_die "kafka: port $KAFKA_PORT is taken by another process"
  # shellcheck disable=SC2086
  start_bg kafka "$KAFKA_LOGFILE" java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m -Xss512k \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    -Dkafka.logs.dir="$FS_LOG" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}
kafka_wait() { wait_until kafka 90 "$KAFKA_LOGFILE" port_open "$KAFKA_PORT"; }
kafka_stop() { stop_pid kafka 60; }

# Idempotent topic creation from infra/kafka/topics.json (kafkajs admin).
kafka_topics() {
  KAFKAJS_NO_PARTITIONER_WARNING=1 KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" \
    node "$FS_INFRA/kafka/create-topics.mjs" "$FS_INFRA/kafka/topics.json"
}
