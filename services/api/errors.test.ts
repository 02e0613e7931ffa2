import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { API_ERRORS, ApiError, problem } from './errors.js';

const doc = readFileSync(new URL('../../docs/api-errors.md', import.meta.url), 'utf8');

test.each(Object.entries(API_ERRORS))('error code %s is documented with its status', (code, { status }) => {
  expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
});

test('problem bodies carry the stable code and status', () => {
  const p = problem('not_found', 'activity x not found', '/v1/activities/x');
  expect(p).toEqual({
    type: 'https://fitstream.dev/problems/not_found',
    title: 'No such resource',
    status: 404,
    code: 'not_found',
    detail: 'activity x not found',
    instance: '/v1/activities/x',
  });
  const e = new ApiError('dependency_unavailable');
  expect([e.status, e.retryable, e.code]).toEqual([503, true, 'dependency_unavailable']);
});
