// Writes the development key that signs the API's access tokens into the data folder, once
// (infra/local/up runs it on every start; an existing key is kept, so tokens stay valid).
import { ensureDevSigningKeys } from '../services/api/auth/signing-keys.js';
import { apiEnv, jwtKeysFile } from '../services/api/config.js';
import { parseEnv } from '../services/common/config.js';

const file = jwtKeysFile(parseEnv(apiEnv));
const wrote = await ensureDevSigningKeys(file);
process.stdout.write(`api signing key: ${wrote ? 'written to' : 'kept'} ${file}\n`);
