import { randomUUID } from 'node:crypto';
import type { AccessTokens } from '../../services/api/auth/access-tokens.js';
import { authFromConfig } from '../../services/api/auth/setup.js';
import { ensureDevSigningKeys } from '../../services/api/auth/signing-keys.js';
import { apiEnv, jwtKeysFile } from '../../services/api/config.js';
import type { ApiDeps } from '../../services/api/deps.js';
import { parseEnv } from '../../services/common/config.js';

/**
 * The API's token machinery as the API would build it from the environment: the development signing
 * key of the data folder (written by infra/local/up; written here too when a stack predates it).
 */
export async function testAuth(): Promise<ApiDeps['auth']> {
  const config = parseEnv(apiEnv);
  await ensureDevSigningKeys(jwtKeysFile(config));
  return authFromConfig(config);
}

/**
 * An access token for `userId` without an account, for tests whose athletes exist only as ids in the
 * telemetry (the worker's). Tests of the API itself sign in through POST /v1/auth/login.
 */
export function tokenFor(tokens: AccessTokens, userId: string): Promise<string> {
  return tokens.sign({ user_id: userId, roles: [], session_id: randomUUID() });
}
