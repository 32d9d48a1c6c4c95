// The experiment's `proxies` section: one optional block per proxy, in that proxy's own
// vocabulary (its translation file defines the block). Other proxies ignore a block.
import { z } from 'zod';
import { HaproxyBlockSchema } from './haproxy.ts';
import { NginxBlockSchema } from './nginx.ts';
import { CaddyBlockSchema } from './caddy.ts';

export const ProxiesSchema = z.strictObject({
  haproxy: HaproxyBlockSchema.optional(),
  nginx: NginxBlockSchema.optional(),
  caddy: CaddyBlockSchema.optional(),
});
