import { createLocalJWKSet, errors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../errors.js';
import { JWT_ALGORITHM, type SigningKeys } from './signing-keys.js';

export const ROLES = ['support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from a verified access token. */
export interface Principal {
  user_id: string;
  /** operator-granted roles (scripts/grant-role.ts); as of sign-in or the last refresh */
  roles: Role[];
  /** the sign-in this token belongs to: its refresh-token family */
  session_id: string;
}

export interface AccessTokenOptions {
  issuer: string;
  audience: string;
  ttlS: number;
}

/** RFC 9068's media type of JWT access tokens, so an ID token or another JWT cannot pass for one. */
const TYP = 'at+jwt';

/**
 * Short-lived JWT access tokens (jose): EdDSA only (the algorithm list is pinned, so `alg: none` or an
 * HS256 token made with the public key as secret are refused), issuer, audience, expiry and `typ` checked,
 * `kid` in the header for key rotation. Stateless: a token stays valid until it expires (15 min by
 * default) even after logout; refresh tokens are what sign-out revokes.
 */
export class AccessTokens {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    private readonly keys: SigningKeys,
    readonly opts: AccessTokenOptions,
  ) {
    this.keySet = createLocalJWKSet({ keys: keys.verifying });
  }

  async sign(p: Principal): Promise<string> {
    return new SignJWT({ roles: p.roles, sid: p.session_id })
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid: this.keys.signing.kid, typ: TYP })
      .setSubject(p.user_id)
      .setIssuer(this.opts.issuer)
      .setAudience(this.opts.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.opts.ttlS}s`)
      .sign(this.keys.signing.key);
  }

  /** The principal of a valid token; ApiError token_expired or token_invalid otherwise. */
  async verify(token: string): Promise<Principal> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        algorithms: [JWT_ALGORITHM],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        typ: TYP,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ApiError('token_expired', 'the access token expired');
      throw new ApiError('token_invalid', 'the access token is not valid', { cause: err });
    }
    const roles = payload.roles;
    if (
      typeof payload.sid !== 'string' ||
      !Array.isArray(roles) ||
      !roles.every((r) => (ROLES as readonly unknown[]).includes(r))
    )
      throw new ApiError('token_invalid', 'the access token lacks its claims');
    return { user_id: payload.sub as string, roles: roles as Role[], session_id: payload.sid };
  }
}
