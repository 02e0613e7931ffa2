// Run as a child process by the bomb tests: reads one hostile upload from a file and prints the process's
// peak RSS (process.resourceUsage().maxRSS, KiB) as JSON. `baseline` only loads the modules and reads the
// file, so the difference to `open` is what unpacking or parsing it cost.
//   node --import tsx test/support/bomb-rss.ts <file> baseline|open|parse
import { readFileSync } from 'node:fs';
import { parseActivityFile } from '../../pipelines/import/index.js';
import { openUpload } from '../../services/api/imports.js';

const [file, mode] = process.argv.slice(2);
const bytes = readFileSync(file!);
const outcomes: string[] = [];
const codeOf = (err: unknown) => (err as { code?: string }).code ?? String(err);
if (mode === 'open') {
  try {
    const u = await openUpload(bytes);
    for (const e of u.entries) {
      try {
        const b = await e.read();
        try {
          parseActivityFile(b);
          outcomes.push('parsed');
        } catch (err) {
          outcomes.push(codeOf(err));
        }
      } catch (err) {
        outcomes.push(codeOf(err));
      }
    }
    u.close();
  } catch (err) {
    outcomes.push(codeOf(err));
  }
} else if (mode === 'parse') {
  try {
    parseActivityFile(bytes);
    outcomes.push('parsed');
  } catch (err) {
    outcomes.push(codeOf(err));
  }
}
process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, outcomes })}\n`);
