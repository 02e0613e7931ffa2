// @mapbox/polyline ships no types; the one function the app uses.
declare module '@mapbox/polyline' {
  const polyline: { decode(encoded: string, precision?: number): [number, number][] };
  export default polyline;
}
