// A node:test reporter that ends the run with one plain line,
// "N passed, N failed[, N skipped]", counting tests (not suites).
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    const suite = d.details && d.details.type === 'suite';
    if (event.type === 'test:fail') {
      if (!suite) failed++;
    } else if (d.skip || d.todo) {
      skipped++;
    } else if (!suite) {
      passed++;
    }
  }
  yield `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
