// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and self time per
// file/package. For profiling the worker bench:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/worker-throughput.ts --samples 300000
//   npx tsx bench/worker-cpuprofile-top.ts /tmp/prof/*.cpuprofile [--top 30] [--skip-ms 6000]
// --skip-ms leaves out the profile's first milliseconds (the bench's prefill: it prints how long).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: {
    top: { type: 'string', default: '30' },
    callers: { type: 'string' },
    'skip-ms': { type: 'string', default: '0' },
  },
  allowPositionals: true,
});
const top = Number(values.top);
for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const skipUs = Number(values['skip-ms']) * 1000;
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < skipUs) continue;
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const where = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd(), '.');
    const name = `${n.callFrame.functionName || '(anon)'}  ${url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const pkg =
      /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
      (url ? url.split('/').slice(0, 4).join('/') : `(${n.callFrame.functionName})`);
    where.set(pkg, (where.get(pkg) ?? 0) + us);
    total += us;
  }
  if (values.callers) {
    // self time of the named function, by its callers' chain (3 frames up)
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const label = (n: Node) =>
      `${n.callFrame.functionName || '(anon)'}@${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
    const chains = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName !== values.callers) continue;
      const up: string[] = [];
      for (let q = parent.get(id); q !== undefined && up.length < 4; q = parent.get(q))
        up.push(label(byId.get(q)!));
      const c = up.join(' < ');
      chains.set(c, (chains.get(c) ?? 0) + us);
    }
    fn.clear();
    for (const [c, us] of chains) fn.set(c, us);
  }
  const show = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`,
      )
      .join('\n');
  console.log(
    `# ${file}: ${(total / 1000).toFixed(0)} ms sampled\n\n## by file / package\n${show(where, 20)}\n\n## top functions (self)\n${show(fn, top)}\n`,
  );
}
