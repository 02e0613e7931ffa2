// SHA-256 over every output of the pipelines, to show that a refactor or an optimisation changes no
// number: activity summaries, per-sample columns and every live() state (full and liveOnly
// accumulators), over 4 sports × 3 seeds × 3 inputs (ordered, shuffled + 10 % duplicates, a late
// first fix) × every algorithm version. Run it before and after a change; the digests must match.
//   npx tsx bench/pipeline-digest.ts [--duration 3600]
import { createHash, type Hash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CONFIGS, computeActivity, SessionAccumulator } from '../pipelines/index.js';
import type { Sample } from '../schemas/types.js';
import { generateSession, type SynthSport } from './synth/index.js';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '3600' } } });
const DURATION_S = Number(values.duration);

function feed(h: Hash, v: unknown): void {
  h.update(
    JSON.stringify(v, (_k, x) => {
      if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
      if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
      return x;
    }),
  );
}

function inputs(samples: Sample[]): Record<string, Sample[]> {
  const n = samples.length;
  const shuffled = samples.slice();
  for (let i = 0; i < n / 10; i++) shuffled.push(samples[(i * 7919) % n]!);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  // the first 120 samples without a position: the track starts late
  const lateFix = samples.map((s, i) => (i < 120 ? { ...s, lat: null, lon: null } : s));
  return { ordered: samples, shuffled, lateFix };
}

const all = createHash('sha256');
const lines: string[] = [];
for (const version of Object.keys(CONFIGS)) {
  for (const sport of ['running', 'cycling', 'walking', 'hiking'] as SynthSport[]) {
    for (const seed of [1, 2, 3]) {
      const { samples } = generateSession({ sport, seed, durationS: DURATION_S, lapEveryM: 1000 });
      for (const [input, s] of Object.entries(inputs(samples))) {
        const h = createHash('sha256');
        const id = { userId: 'u', deviceId: 'd', sessionId: `s${seed}`, sport };
        const athlete = { maxHr: 190 };
        feed(h, computeActivity({ ...id, samples: s, controls: [], sets: [], athlete }, { version }));
        const full = new SessionAccumulator({ ...id, version });
        const live = new SessionAccumulator({ ...id, version, liveOnly: true });
        for (let i = 0; i < s.length; i += 10) {
          const batch = s.slice(i, i + 10);
          feed(h, full.add(batch));
          feed(h, full.live());
          feed(h, live.add(batch));
          feed(h, live.live());
        }
        feed(h, full.compute(athlete));
        const d = h.digest('hex');
        all.update(d);
        lines.push(`${version} ${sport} seed ${seed} ${input}: ${d}`);
      }
    }
  }
}
for (const l of lines) console.log(l);
console.log(`all: ${all.digest('hex')}`);
