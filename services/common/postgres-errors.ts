/**
 * Whether a pg error means "PostgreSQL is not there" (down, restarting, unreachable, out of
 * connections) rather than "this query is wrong": the one place that reads pg's error codes and texts.
 * SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect
 * now), 53300 (too many connections), the socket errors of node:net, and the texts pg-pool and pg use for
 * a lost or timed-out connection.
 */
export function isPgUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null, depth = 0;
    e && depth < 5;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(code))
      return true;
    const msg = typeof e.message === 'string' ? e.message : '';
    if (
      /Connection terminated|timeout exceeded when trying to connect|the database system is (starting|shutting) up|connect ECONNREFUSED/i.test(
        msg,
      )
    )
      return true;
    // AggregateError (a host that resolves to several addresses, all refused) keeps its causes in `errors`.
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some((x) => isPgUnavailable(x))) return true;
    e = e.cause as typeof e;
  }
  return false;
}
