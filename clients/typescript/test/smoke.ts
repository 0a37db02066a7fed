/**
 * Exercises the generated client against a running edge (the e2e suite starts one):
 *   node dist/test/smoke.js <base-url> <platform-admin-secret>
 * Type errors fail `tsc`; wrong answers fail here.
 */
import { prismClient } from "../src/index.js";

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`smoke: ${what}`);
}

async function main(): Promise<void> {
  const [baseUrl, adminSecret] = process.argv.slice(2);
  check(baseUrl && adminSecret, "usage: smoke.js <base-url> <admin-secret>");

  const platform = prismClient({ baseUrl, token: adminSecret });
  const slug = `sdk-${Date.now().toString(36)}`;
  const created = await platform.POST("/v1/platform/tenants", {
    body: {
      name: "SDK smoke",
      slug,
      tier: "pro",
      owner_email: `owner@${slug}.example`,
      owner_name: "Owner",
      allowed_origins: ["https://shop.example"],
    },
  });
  check(created.data, `create tenant: ${JSON.stringify(created.error)}`);
  const secretKey: string = created.data.secret_key;

  const api = prismClient({ baseUrl, token: secretKey });
  const me = await api.GET("/v1/tenant");
  check(me.data?.tenant.slug === slug, "GET /v1/tenant returns the tenant");

  const doc = await api.POST("/v1/knowledge/documents", {
    body: { title: "Returns", format: "markdown", content: "# Returns\n\nYou can return items within 30 days." },
  });
  check(doc.data?.status === "ready", `document indexed: ${JSON.stringify(doc.error)}`);
  const hits = await api.GET("/v1/knowledge/search", { params: { query: { q: "return within how many days", k: 3 } } });
  check(hits.data && hits.data.hits.length > 0 && hits.data.hits[0].title === "Returns", "search finds the document");

  const started = await api.POST("/v1/conversations", { body: { name: "Ann" } });
  check(started.data, `start conversation: ${JSON.stringify(started.error)}`);
  const id: string = started.data.conversation.conversation_id;

  const customer = prismClient({ baseUrl, token: started.data.token });
  const sent = await customer.POST("/v1/conversations/{conversation_id}/messages", {
    params: { path: { conversation_id: id } },
    body: { text: "Hello from the SDK", client_msg_id: "sdk-1" },
  });
  check(sent.data?.ack.seq === 1, `send: ${JSON.stringify(sent.error)}`);

  const history = await api.GET("/v1/conversations/{conversation_id}/messages", {
    params: { path: { conversation_id: id }, query: { after_seq: 0, limit: 50 } },
  });
  check(history.data?.messages.some((m) => m.text === "Hello from the SDK"), "history has the message");

  const inbox = await api.GET("/v1/conversations", { params: { query: { channel: "web", limit: 10 } } });
  check(inbox.data?.items.some((c) => c.id === id), "the inbox lists the conversation");

  // A typed error envelope: an unknown conversation.
  const missing = await api.GET("/v1/conversations/{conversation_id}", {
    params: { path: { conversation_id: "cnv_aaaaaaaaaaaaaaaaaaaaaaaaaa" } },
  });
  check(missing.error?.error.code === "not_found" && missing.response.status === 404, "404 envelope");

  console.log("sdk smoke: ok");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
