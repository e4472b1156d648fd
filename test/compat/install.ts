// `npm run compat:install`: installs the compatibility matrix's cells from their lockfiles,
// Node 24 included (the cells' `node` package). Cells whose lockfile has not changed are skipped.
import { installCells } from './matrix.js';

const started = Date.now();
installCells((line) => console.log(`[compat] ${line}`));
console.log(`[compat] cells ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
