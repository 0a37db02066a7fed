// The floor for gateway benchmarks: the least a worker can do (constant JSON), under the same
// runtime as PrismAI Edge. `/health` answers what PrismAI's `/health` answers, byte for byte
// but for the request id (a fresh UUID, as PrismAI's): the same ten headers (the security
// headers every PrismAI response carries) and the same body, so the runtime's cost of the
// response itself is on both sides and the ratio against it is PrismAI's own overhead.
const HEALTH_BODY =
  '{"bindings":{"cache":true,"db":true,"live_objects":true,"outbound_http":true},"commit":"000000000000","runtime":"cloudflare","status":"ok","version":"0.1.0"}';

export default {
  async fetch(req) {
    if (new URL(req.url).pathname === "/health") {
      return new Response(HEALTH_BODY, {
        headers: {
          "content-type": "application/json; charset=utf-8",
          "cache-control": "no-store",
          "strict-transport-security": "max-age=63072000; includeSubDomains",
          "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
          "cross-origin-resource-policy": "same-site",
          "referrer-policy": "no-referrer",
          "x-content-type-options": "nosniff",
          "x-frame-options": "DENY",
          "x-request-id": crypto.randomUUID(),
        },
      });
    }
    return new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } });
  },
};
