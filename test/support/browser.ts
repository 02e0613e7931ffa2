// Headless Chromium for the web app's end-to-end tests: Debian's `chromium` package (installed by
// scripts/test.sh when /usr/bin/chromium is missing), driven by playwright-core; no browser download.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Screenshots of every run (gitignored) */
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');
/** The two the README shows (committed) */
export const README_IMAGES = join(ROOT, 'docs', 'img');
mkdirSync(ARTIFACTS, { recursive: true });
