import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';
import { type Principal, ROLES } from './access-tokens.js';

/**
 * Single-use tickets for server-sent event streams. A browser's EventSource cannot send an
 * Authorization header, so a signed-in page asks `POST /v1/live/tickets` (with its access token) for a
 * ticket and opens the stream with `?ticket=`. A ticket is 32 random bytes, valid for 60 s, and works
 * once: Redis keeps the caller under the ticket's SHA-256 and GETDEL takes it, so a ticket that leaked
 * into a log or a browser history after use opens nothing. Why not a cookie: a cookie is sent by the
 * browser on any request to the API, so it needs CSRF protection and SameSite care, and it ties the
 * stream to one site; a ticket is asked for by the page's own script with its token, like any other call.
 */
export const STREAM_TICKET_TTL_S = 60;
const key = (ticket: string) =>
  `fitstream:stream-ticket:${createHash('sha256').update(ticket).digest('hex')}`;

export class StreamTickets {
  constructor(private readonly redis: Redis) {}

  async issue(p: Principal): Promise<string> {
    const ticket = randomBytes(32).toString('base64url');
    await this.dependency(() => this.redis.set(key(ticket), JSON.stringify(p), 'EX', STREAM_TICKET_TTL_S));
    return ticket;
  }

  /** The principal a ticket was issued to, spending it; ApiError ticket_invalid when unknown, used or old. */
  async redeem(ticket: string): Promise<Principal> {
    const raw = await this.dependency(() => this.redis.getdel(key(ticket)));
    if (!raw) throw new ApiError('ticket_invalid', 'the stream ticket is unknown, used or older than 60 s');
    const p = JSON.parse(raw) as Principal;
    if (typeof p.user_id !== 'string' || !Array.isArray(p.roles) || !p.roles.every((r) => ROLES.includes(r)))
      throw new ApiError('ticket_invalid', 'the stream ticket is malformed');
    return p;
  }

  private async dependency<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new ApiError('dependency_unavailable', 'Redis did not answer', { cause: err });
    }
  }
}
