// Re-runs the vector generation in memory and fails if any committed
// generated file differs byte for byte. Run by `make test-vectors`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll, ROOT } from './build.mjs';

let passed = 0;
let failed = 0;

try {
    const { files, checks, warnings } = await buildAll();
    for (const w of warnings) console.error(`solc warning: ${w}`);
    // Every self-check in build.mjs throws on failure, so reaching here means
    // all of them held (including: solc compiled spec/IMemSync.sol without errors).
    passed += checks.length;
    console.log(`ok: ${checks.length} generation self-checks (solc compile, ethers cross-checks)`);
    for (const [rel, text] of files) {
        const p = join(ROOT, rel);
        if (!existsSync(p)) {
            failed++;
            console.error(`FAIL: ${rel} is missing; run \`make vectors\` (cd tools/vectors && node generate.mjs)`);
            continue;
        }
        const have = readFileSync(p);
        const want = Buffer.from(text, 'utf8');
        if (have.equals(want)) {
            passed++;
            console.log(`ok: ${rel} matches the generator byte for byte`);
        } else {
            failed++;
            let i = 0;
            while (i < have.length && i < want.length && have[i] === want[i]) i++;
            const line = want.subarray(0, i).toString('utf8').split('\n').length;
            console.error(`FAIL: ${rel} differs from the generator (first difference at byte ${i}, line ${line}); ` +
                'it is generated: run `make vectors`, do not edit it');
        }
    }
} catch (e) {
    failed++;
    console.error(`FAIL: generation failed: ${e.message}`);
}

console.log(`vectors: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
