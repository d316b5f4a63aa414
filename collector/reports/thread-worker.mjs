// Entry of a report thread (threads.ts). A worker does not share the main thread's module loader,
// so it registers tsx itself, as bin/waymark.js does, then runs the TypeScript.
const { register } = await import('tsx/esm/api')
register()
await import('./thread-worker.ts')
