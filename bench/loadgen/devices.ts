import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateDeviceToken, hashDeviceToken } from '../../schemas/device-tokens.js';

export interface BenchDevice {
  deviceId: string;
  token: string;
}

export interface DeviceFleet {
  userId: string;
  devices: BenchDevice[];
  /** deletes the user and (cascade) its devices */
  drop(): Promise<void>;
}

/**
 * Registers `n` devices for one fresh user directly in PostgreSQL (what the API's POST
 * /users/:id/devices does one at a time), in chunks of 1000 rows. For local load runs only.
 */
export async function createFleet(pool: pg.Pool, n: number, prefix = 'load'): Promise<DeviceFleet> {
  const run = randomUUID().slice(0, 8);
  const u = await pool.query<{ id: string }>('INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id', [
    `${prefix}-${run}@load.invalid`,
    `${prefix} ${run}`,
  ]);
  const userId = u.rows[0]!.id;
  // zero-padded, so that the ids sort as the devices are numbered: the first k devices (the load harness's
  // tracers) are neighbours in the samples key (user, device, session), a few granules, not one per device
  const width = String(Math.max(0, n - 1)).length;
  const devices: BenchDevice[] = Array.from({ length: n }, (_, i) => ({
    deviceId: `${prefix}-${run}-${String(i).padStart(width, '0')}`,
    token: generateDeviceToken(),
  }));
  for (let i = 0; i < n; i += 1000) {
    const chunk = devices.slice(i, i + 1000);
    await pool.query(
      `INSERT INTO devices (id, user_id, name, token_hash)
       SELECT id, $2, 'load generator', h FROM unnest($1::text[], $3::text[]) AS t(id, h)`,
      [chunk.map((d) => d.deviceId), userId, chunk.map((d) => hashDeviceToken(d.token))],
    );
  }
  return {
    userId,
    devices,
    drop: async () => {
      await pool.query('DELETE FROM users WHERE id = $1', [userId]);
    },
  };
}
