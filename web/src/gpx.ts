// A GPX file as the data points of POST /v1/activities (docs/uploads.md), read with the browser's own
// XML parser. Points keep their order; a point without a time is skipped (the upload needs one each).

export interface DataPoint {
  time: string;
  lat?: number;
  lng?: number;
  altitude?: number;
  heart_rate?: number;
  cadence?: number;
}

export interface ParsedGpx {
  name: string | null;
  sport: 'running' | 'cycling' | 'walking' | 'hiking';
  start_time: string;
  data_points: DataPoint[];
}

const SPORT_WORDS: [RegExp, ParsedGpx['sport']][] = [
  [/bik|cycl|ride/i, 'cycling'],
  [/hik/i, 'hiking'],
  [/walk/i, 'walking'],
];

/** Reads the first track of a GPX document; throws with a reason a person can act on. */
export function parseGpx(xml: string, parser: DOMParser = new DOMParser()): ParsedGpx {
  const doc = parser.parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length > 0) throw new Error('the file is not valid XML');
  const trkpts = [...doc.getElementsByTagNameNS('*', 'trkpt')];
  if (trkpts.length === 0) throw new Error('the GPX file has no track points');
  const text = (el: Element, local: string) => el.getElementsByTagNameNS('*', local)[0]?.textContent?.trim();
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const points: DataPoint[] = [];
  for (const p of trkpts) {
    const time = text(p, 'time');
    if (!time) continue;
    const point: DataPoint = { time: new Date(time).toISOString() };
    const lat = num(p.getAttribute('lat') ?? undefined);
    const lng = num(p.getAttribute('lon') ?? undefined);
    if (lat !== undefined && lng !== undefined && Number.isFinite(lat) && Number.isFinite(lng)) {
      point.lat = lat;
      point.lng = lng;
    }
    const ele = num(text(p, 'ele'));
    if (ele !== undefined && Number.isFinite(ele)) point.altitude = ele;
    const hr = num(text(p, 'hr'));
    if (hr !== undefined && Number.isFinite(hr)) point.heart_rate = Math.round(hr);
    const cad = num(text(p, 'cad'));
    if (cad !== undefined && Number.isFinite(cad)) point.cadence = Math.round(cad);
    points.push(point);
  }
  if (points.length === 0) throw new Error('no track point has a time');
  const trk = doc.getElementsByTagNameNS('*', 'trk')[0];
  const name = trk ? (text(trk, 'name') ?? null) : null;
  const type = trk ? (text(trk, 'type') ?? '') : '';
  const sport = SPORT_WORDS.find(([re]) => re.test(type))?.[1] ?? 'running';
  return { name, sport, start_time: points[0]!.time, data_points: points };
}
