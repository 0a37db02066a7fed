// Verifies recorded webhook requests with the Standard Webhooks reference implementation
// (npm `standardwebhooks`), independently of the platform's own signing code.
// Usage: node tests/verify-webhooks.mjs <whsec_secret> < requests.json
//   requests.json: [{"webhook-id", "webhook-timestamp", "webhook-signature", "body"}]
// Prints {"verified": n, "failed": [{id, error}]}.
import { Webhook } from "standardwebhooks";

const secret = process.argv[2];
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const requests = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const wh = new Webhook(secret);
let verified = 0;
const failed = [];
for (const r of requests) {
  try {
    wh.verify(r.body, {
      "webhook-id": r["webhook-id"],
      "webhook-timestamp": r["webhook-timestamp"],
      "webhook-signature": r["webhook-signature"],
    });
    verified += 1;
  } catch (e) {
    failed.push({ id: r["webhook-id"], error: String(e.message || e) });
  }
}
console.log(JSON.stringify({ verified, failed }));
