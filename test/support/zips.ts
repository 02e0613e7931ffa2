import { Readable } from 'node:stream';
import yazl from 'yazl';

/** A zip of the given files (yazl, deflated), as an export from another platform is. */
export function zipOf(files: readonly { name: string; bytes: Uint8Array }[]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const f of files) z.addBuffer(Buffer.from(f.bytes), f.name);
  z.end();
  return collect(z.outputStream);
}

/** `bytes` of zeros, streamed in 1 MiB chunks so that building a bomb holds only what it compresses to. */
export function zeros(bytes: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/**
 * A zip bomb: `entries` entries of `bytes` zeros each (deflate packs 1 GiB of zeros into ~1 MB). With
 * `lie`, the central directory declares every entry `lie` bytes unpacked, as a hostile archive does to pass
 * a size check: only yauzl's check of the inflated bytes against the declared size stops it.
 */
export async function zipBomb(opts: { entries: number; bytes: number; lie?: number }): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (let i = 0; i < opts.entries; i++) z.addReadStream(zeros(opts.bytes), `bomb-${i}.gpx`);
  z.end();
  const zip = await collect(z.outputStream);
  if (opts.lie !== undefined) {
    // central directory file headers: signature 0x02014b50, uncompressed size at offset 24
    for (let at = zip.indexOf(CDH); at >= 0; at = zip.indexOf(CDH, at + 4))
      zip.writeUInt32LE(opts.lie, at + 24);
  }
  return zip;
}
const CDH = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
