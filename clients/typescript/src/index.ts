/**
 * PrismAI Edge API client for TypeScript. The types (`schema.d.ts`) are generated from the
 * server's own OpenAPI document by openapi-typescript; requests go through openapi-fetch, so
 * every path, parameter, body and response is checked by the compiler.
 *
 *   const api = prismClient({ baseUrl: "https://edge.example", token: "sk_…" });
 *   const { data, error } = await api.GET("/v1/conversations", { params: { query: { status: "open" } } });
 *
 * Errors come back as `error` with the API's envelope: `{ error: { code, message, request_id } }`.
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };

/** The error envelope every failed call returns. */
export type ApiError = components["schemas"]["Error"];

export interface PrismClientOptions {
  /** The edge's base URL, e.g. `https://support.example.com`. */
  baseUrl: string;
  /** A secret key (`sk_…`), an agent token, a conversation token or the platform admin secret. */
  token?: string;
  /** A custom fetch (tests, other runtimes). */
  fetch?: typeof globalThis.fetch;
}

export function prismClient(options: PrismClientOptions): Client<paths> {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ""),
    fetch: options.fetch,
  });
  if (options.token) {
    const token = options.token;
    client.use({
      onRequest({ request }) {
        request.headers.set("authorization", `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}
