// Options the HAProxy models share.
import { z } from 'zod';

/** Per-server `maxconn`: a saturated server is skipped while another has room. */
export const maxconnOption = z.number().int().min(1).max(1_000_000).optional();
