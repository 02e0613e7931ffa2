import type { ApiConfig } from '../config.js';
import { jwtKeysFile } from '../config.js';
import type { ApiDeps } from '../deps.js';
import { AccessTokens } from './access-tokens.js';
import { loadSigningKeys } from './signing-keys.js';

/** The API's token machinery from its config (main.ts, and tests that build the API). */
export async function authFromConfig(
  c: Pick<
    ApiConfig,
    | 'API_JWT_KEYS_FILE'
    | 'FITSTREAM_DATA_DIR'
    | 'API_JWT_ISSUER'
    | 'API_JWT_AUDIENCE'
    | 'API_ACCESS_TOKEN_TTL_S'
    | 'API_REFRESH_TOKEN_TTL_S'
  >,
): Promise<ApiDeps['auth']> {
  const keys = await loadSigningKeys(jwtKeysFile(c));
  return {
    tokens: new AccessTokens(keys, {
      issuer: c.API_JWT_ISSUER,
      audience: c.API_JWT_AUDIENCE,
      ttlS: c.API_ACCESS_TOKEN_TTL_S,
    }),
    refreshTokenTtlS: c.API_REFRESH_TOKEN_TTL_S,
  };
}
