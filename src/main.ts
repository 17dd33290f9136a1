// The process's entry point. Source maps are turned on for the operator's own files only, before anything else
// loads: with --enable-source-maps Node also keeps the maps of every dependency it loads (about 20 MiB for
// @kubernetes/client-node's generated models alone), to name lines inside node_modules in stack traces.
import { setSourceMapsSupport } from 'node:module';

setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
await import('./run.ts');
