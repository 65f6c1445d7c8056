// Monaco (GraphiQL's editor) runs its language services in web workers. They are bundled beside
// this script by build.mjs, which defines MONACO_WORKERS as their file names; the URLs are taken
// relative to this script, so the page works under any path prefix and under `worker-src 'self'`.
/* global MONACO_WORKERS */
const here = document.currentScript.src;

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    return new Worker(new URL(MONACO_WORKERS[label] ?? MONACO_WORKERS.editor, here));
  },
};
