// CPU and memory of the processes of a run, from /proc (Linux): utime + stime and RSS of each pid.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: clock ticks per second of /proc/<pid>/stat (100 on every Linux this runs on) */
export const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

export interface ProcSample {
  /** CPU seconds (user + system) since the process started */
  cpuS: number;
  rssBytes: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseStat(stat: string): ProcSample {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime = field 14, stime = 15, rss (pages) = 24
  return { cpuS: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS, rssBytes: Number(f[21]) * PAGE_BYTES };
}

/** CPU seconds and RSS of a pid summed with its descendants' (a server that forks workers); null when gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** pid files of the local stack (infra/local) under the data folder; PostgreSQL keeps its own. */
export function stackPids(dataDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const read = (name: string, file: string) => {
    try {
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());
      if (Number.isInteger(pid) && pid > 0) out[name] = pid;
    } catch {}
  };
  for (const name of ['kafka', 'clickhouse', 'redis', 'mosquitto', 's3', 'registry'])
    read(name, join(dataDir, 'run', `${name}.pid`));
  read('postgres', join(dataDir, 'postgres', 'data', 'postmaster.pid'));
  return out;
}

/**
 * Processes whose parent is `pid` (PostgreSQL's backends, a JVM's none): their CPU belongs to the server.
 * Reads /proc once per call; fine at one call per sampling tick.
 */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(' ').map(Number) : [];
  } catch {
    return [];
  }
}

/** A server and its direct children (PostgreSQL: postmaster + backends), summed. */
export function readProcTree(pid: number): ProcSample | null {
  const root = readProc(pid);
  if (!root) return null;
  for (const c of childrenOf(pid)) {
    const s = readProc(c);
    if (s) {
      root.cpuS += s.cpuS;
      root.rssBytes += s.rssBytes;
    }
  }
  return root;
}
