// Writes MemSync's independent known-answer vectors and the generated C
// headers. Run: cd tools/vectors && node generate.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildAll, ROOT } from './build.mjs';

try {
    const { files, checks, warnings } = await buildAll();
    for (const w of warnings) console.error(`solc warning: ${w}`);
    for (const [rel, text] of files) {
        const p = join(ROOT, rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, text);
        console.log(`wrote ${rel}`);
    }
    console.log(`generate: ${files.size} files written, ${checks.length} self-checks passed`);
} catch (e) {
    console.error(`generate: FAILED: ${e.message}`);
    process.exit(1);
}
