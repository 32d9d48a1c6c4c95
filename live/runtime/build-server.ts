// `npm run build:server`: bundles the replica for the Dockerfile.
import { buildServerBundle } from './bundle.ts';

console.log(await buildServerBundle());
