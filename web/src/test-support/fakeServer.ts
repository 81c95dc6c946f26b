// A fake of the API for component tests: routes "METHOD /path" to handlers, records every
// request, and gives the real client (createApi) its fetch, so components and client are
// exercised together.
import { createApi, type Item, type PublicConfig, type Tokens } from "../api/client";
import { createStore } from "../store";

export interface Seen { method: string; path: string; body: unknown; auth: string | null }
type Handler = (seen: Seen, params: string[]) => { status: number; body?: unknown };

export function fakeServer(routes: Record<string, Handler>) {
  const seen: Seen[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://app.test");
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const request: Seen = { method: init?.method ?? "GET", path: url.pathname + url.search,
                            body: init?.body ? JSON.parse(String(init.body)) : undefined,
                            auth: headers.Authorization ?? null };
    seen.push(request);
    for (const [key, handler] of Object.entries(routes)) {
      const [method, pattern] = key.split(" ");
      const match = new RegExp(`^${pattern}$`).exec(url.pathname);
      if (method === request.method && match) {
        const { status, body } = handler(request, match.slice(1));
        return new Response(body === undefined ? null : JSON.stringify(body),
                            { status, headers: { "Content-Type": "application/json" } });
      }
    }
    return new Response(JSON.stringify({ error: { status: 404, title: "Not found", detail: "no route",
                                                  request_id: null } }), { status: 404 });
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

export function storeWith(fetch: typeof globalThis.fetch) {
  return createStore((onSession) => createApi({ fetch, onSession }));
}

/** A cookie session's sign-in answer: no refresh_token in the JSON. */
export const TOKENS: Tokens = {
  access_token: "A1", token_type: "Bearer", expires_in: 900,
  user: { id: "u1", email: "me@example.com", tier: "free" },
};

const LIMITS = { item_limit: 5, check_interval_minutes: 360, history_days: 30, manual_checks_per_hour: 5,
                 auto_buy: false };

/** GET /v1/config of an API with development sign-in and no Google client id in use. */
export function config(overrides: Partial<PublicConfig> = {}): PublicConfig {
  return { google_client_id: "", dev_signin: true,
           tiers: { free: LIMITS, pro: { ...LIMITS, item_limit: 50 },
                    ultra: { ...LIMITS, item_limit: 200, auto_buy: true } }, ...overrides };
}

export const ME = {
  user: { id: "u1", email: "me@example.com", name: null, tier: "free" },
  limits: { item_limit: 5, check_interval_minutes: 360, history_days: 30, manual_checks_per_hour: 5,
            auto_buy: false },
  usage: { items: 1 },
};

export function item(overrides: Partial<Item> = {}): Item {
  return {
    id: "i1", url: "https://www.shop.example/p/kettle", title: "Kettle", target_price: "40.00",
    currency: "EUR", auto_buy: false, status: "active", created_at: 1_700_000_000,
    updated_at: 1_700_000_000, last_checked: 1_700_000_600, next_check_at: 1_700_022_200,
    current_price: "49.99", availability: "in_stock", check_requested_at: null,
    alert_drop_percent: null, alert_back_in_stock: false, last_outcome: "ok", last_reason: null,
    last_attempt_at: 1_700_000_600, first_price: "59.99", first_price_at: 1_699_990_000, ...overrides,
  };
}
