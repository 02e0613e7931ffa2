import { describe, expect, test } from 'vitest';
import { FitstreamError } from './fitstream-error.js';

class ExampleError extends FitstreamError<'example'> {
  readonly code = 'example' as const;
}

describe('FitstreamError', () => {
  test('carries code, retryable, cause and the subclass name', () => {
    const cause = new Error('underlying');
    const e = new ExampleError('it failed', { cause, retryable: true });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('example');
    expect(e.retryable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('ExampleError');
    expect(e.message).toBe('it failed');
  });

  test('not retryable and without a cause unless told', () => {
    const e = new ExampleError('it failed');
    expect(e.retryable).toBe(false);
    expect('cause' in e).toBe(false);
  });
});
