// The floor for gateway benchmarks: the least a worker can do (constant JSON), under the same
// runtime as PrismAI Edge.
export default {
  async fetch() {
    return new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } });
  },
};
