// The process's entry point: `node src/main.ts` from a checkout, `node dist/main.js` (the bundle scripts/build.ts
// writes) in the image. No source maps either way: Node strips the types of src/ in place, so its lines are the
// file's own, and the bundle keeps every function's and class's name for stack traces; a map of the bundle
// would cost the process the memory the bundle saves (docs/benchmarks.md, "Memory").
await import('./run.ts');
