import type { Sample } from '../../schemas/types.js';

const NS = {
  gpx: 'http://www.topografix.com/GPX/1/1',
  tpx: 'http://www.garmin.com/xmlschemas/TrackPointExtension/v2',
  px: 'http://www.garmin.com/xmlschemas/PowerExtension/v1',
};

/**
 * Samples to GPX 1.1 (one <trk>, one <trkseg>), for export and for the import round-trip test.
 * Numbers are written in JavaScript's shortest round-trip form, so parseGpx reads back the same
 * doubles. Heart rate, cadence and speed go into Garmin's TrackPointExtension v2, power into
 * Garmin's PowerExtension. GPX has no place for accuracy, device distance or lap markers, and a
 * trkpt needs a position: samples without a fix are skipped.
 */
export function writeGpx(
  samples: readonly Sample[],
  opts: { name?: string; type?: string; creator?: string } = {},
): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<gpx version="1.1" creator="${esc(opts.creator ?? 'Fitstream')}" xmlns="${NS.gpx}" xmlns:gpxtpx="${NS.tpx}" xmlns:gpxpx="${NS.px}">`,
    '<trk>',
  ];
  if (opts.name !== undefined) out.push(`<name>${esc(opts.name)}</name>`);
  if (opts.type !== undefined) out.push(`<type>${esc(opts.type)}</type>`);
  out.push('<trkseg>');
  for (const s of samples) {
    if (s.lat === null || s.lon === null) continue;
    let p = `<trkpt lat="${s.lat}" lon="${s.lon}">`;
    if (s.alt !== null) p += `<ele>${s.alt}</ele>`;
    p += `<time>${new Date(s.ts).toISOString()}</time>`;
    const tpx: string[] = [];
    if (s.hr !== null) tpx.push(`<gpxtpx:hr>${s.hr}</gpxtpx:hr>`);
    if (s.cadence !== null) tpx.push(`<gpxtpx:cad>${s.cadence}</gpxtpx:cad>`);
    if (s.speed !== null) tpx.push(`<gpxtpx:speed>${s.speed}</gpxtpx:speed>`);
    const ext: string[] = [];
    if (tpx.length > 0) ext.push(`<gpxtpx:TrackPointExtension>${tpx.join('')}</gpxtpx:TrackPointExtension>`);
    if (s.power !== null)
      ext.push(
        `<gpxpx:PowerExtension><gpxpx:PowerInWatts>${s.power}</gpxpx:PowerInWatts></gpxpx:PowerExtension>`,
      );
    if (ext.length > 0) p += `<extensions>${ext.join('')}</extensions>`;
    out.push(`${p}</trkpt>`);
  }
  out.push('</trkseg>', '</trk>', '</gpx>', '');
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
