#!/usr/bin/env bash
# ClickHouse from Debian (`clickhouse-server` 18.16), NOT the system service: our own
# config.xml/users.xml under $FS_DATA/clickhouse, HTTP 127.0.0.1:8123, native 127.0.0.1:9000,
# no interserver port. Holds: samples, activities, daily roll-ups (database `fitstream`).
# Memory: mark cache 256MB + uncompressed cache 256MB (both allocated on demand), queries
# capped at 1GB each / 2GB together; idle it is ~100-200MB. Settings are valid on 18.16
# (max_server_memory_usage does not exist there, so the per-profile caps are used).
CH_HTTP_PORT=8123
CH_TCP_PORT=9000
CH_DIR="$FS_DATA/clickhouse"
CH_LOGFILE="$FS_LOG/clickhouse.log"

clickhouse_need() {
  need_cmd_or_pkg clickhouse-server clickhouse-server
  need_cmd_or_pkg clickhouse-client clickhouse-client
}

clickhouse_install() {
  mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/format_schemas"
  cat >"$CH_DIR/config.xml" <<CONF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$FS_LOG/clickhouse-server.log</log>
        <errorlog>$FS_LOG/clickhouse-server.err.log</errorlog>
        <size>50M</size>
        <count>3</count>
    </logger>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>50</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
</yandex>
CONF
  cat >"$CH_DIR/users.xml" <<'CONF'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>1000000000</max_memory_usage>
            <max_memory_usage_for_all_queries>2000000000</max_memory_usage_for_all_queries>
            <max_threads>2</max_threads>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
CONF
}

http_ok() { # http_ok PORT PATH -> 0 on HTTP 200 (bash /dev/tcp; no curl needed)
  timeout 2 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$1"'
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "'"$2"'" >&3
    head -n1 <&3 | grep -q " 200 "' 2>/dev/null
}

clickhouse_ready() { http_ok "$CH_HTTP_PORT" /ping; }
clickhouse_running() { pid_of clickhouse >/dev/null && port_open "$CH_HTTP_PORT"; }

clickhouse_start() {
  clickhouse_running && return 0
  port_open "$CH_HTTP_PORT" && fs_die "clickhouse: port $CH_HTTP_PORT is taken by another process (system clickhouse-server service? stop it)"
  start_bg clickhouse "$CH_LOGFILE" clickhouse-server --config-file="$CH_DIR/config.xml"
}
clickhouse_wait() { wait_until clickhouse 60 "$FS_LOG/clickhouse-server.err.log" clickhouse_ready; }
clickhouse_stop() { stop_pid clickhouse 60; }
