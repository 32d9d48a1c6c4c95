// `npm run build:bundles`: bundles the replica and the proxy for the Dockerfile.
import { buildBundles } from './bundle.ts';

for (const file of await buildBundles()) console.log(file);
