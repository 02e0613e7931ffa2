import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { ApiError } from './errors.js';

/**
 * Where `vite build` puts the web app (web/, docs/web-app.md): `web/dist` at the root when the API runs from
 * source, `dist/web/dist` beside the compiled API (scripts/copy-assets.mjs copies it there).
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface WebAppOptions {
  /** the folder of the built app (index.html + assets/) */
  root: string;
  /** a raster tile URL template ({z}/{x}/{y}) that turns on a base map; null: routes on a plain canvas */
  tileUrl: string | null;
}

/**
 * The web app under /app: static files only, so `access: 'public'` (what it shows comes from the API's
 * routes, called with the signed-in user's token). Vite names every asset by its content hash, so
 * `/app/assets/*` is cached for a year as immutable; index.html (which names the current assets) and the
 * config are revalidated on every load (`no-cache`), so a new build is picked up at once.
 */
export const webAppRoutes: FastifyPluginAsync<WebAppOptions> = async (app, { root, tileUrl }) => {
  await app.register(fastifyStatic, { root, serve: false, index: false, wildcard: false });
  const built = () => {
    if (!existsSync(`${root}/index.html`))
      throw new ApiError('not_found', 'the web app is not built here (npm run build:web)');
  };
  const route = { config: { access: 'public' as const }, schema: { hide: true } };

  app.get('/app', route, async (_req, reply) => reply.redirect('/app/', 301));
  app.get('/app/config.json', route, async (_req, reply) => {
    reply.header('cache-control', 'no-cache');
    return { tile_url: tileUrl };
  });
  app.get<{ Params: { '*': string } }>('/app/*', route, async (req, reply) => {
    built();
    const path = req.params['*'];
    if (path === '' || path === 'index.html')
      return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
    if (path.startsWith('assets/'))
      return reply.sendFile(path, { maxAge: 365 * 24 * 3600 * 1000, immutable: true });
    return reply.sendFile(path, { maxAge: 3600 * 1000 });
  });
};
