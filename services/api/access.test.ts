import Fastify from 'fastify';
import { expect, test } from 'vitest';
import { accessControl } from './access.js';
import type { AccessTokens } from './auth/access-tokens.js';
import type { StreamTickets } from './auth/stream-tickets.js';

// Start-up only: no request is verified here.
const none = { tokens: {} as AccessTokens, tickets: {} as StreamTickets };

test('a route that declares no access rule stops the app at start-up', async () => {
  const app = Fastify();
  await app.register(accessControl, none);
  app.get('/open', { config: { access: 'public' } }, async () => 'ok');
  expect(() => app.get('/forgotten', async () => 'oops')).toThrow(/GET \/forgotten declares no access rule/);
  await app.close();
});

test('the route table lists every route with its rule, in registration order', async () => {
  const app = Fastify();
  await app.register(accessControl, none);
  app.get('/a', { config: { access: 'public' } }, async () => 'a');
  await app.register(
    async (child) => {
      child.post('/b', { config: { access: 'user' } }, async () => 'b');
      child.route({
        method: ['GET', 'DELETE'],
        url: '/c',
        config: { access: 'user' },
        handler: async () => 'c',
      });
      child.get('/c/stream', { config: { access: 'stream' } }, async () => 's');
    },
    { prefix: '/v1' },
  );
  app.get('/docs/json', async () => ({}));
  await app.ready();
  expect(app.routeTable()).toEqual([
    { method: 'GET', url: '/a', access: 'public' },
    { method: 'POST', url: '/v1/b', access: 'user' },
    { method: 'GET', url: '/v1/c', access: 'user' },
    { method: 'DELETE', url: '/v1/c', access: 'user' },
    { method: 'GET', url: '/v1/c/stream', access: 'stream' },
    { method: 'GET', url: '/docs/json', access: 'public' },
  ]);
  await app.close();
});
