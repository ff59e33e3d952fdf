// Monaco runs its language services in web workers. They are bundled beside this
// script by build.mjs (no CDN), so they are found relative to this module's URL.
const workers = {
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = workers[label] ?? 'editor.worker.js';
    return new Worker(new URL(`./${file}`, import.meta.url));
  },
};
