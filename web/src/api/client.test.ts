import { describe, expect, it, vi } from "vitest";
import { ApiError, createApi, type Session, type Tokens } from "./client";

// A fake fetch: answers from a queue of handlers, records every request it was given.
interface Call { url: string; method: string; headers: Record<string, string>; body: unknown }
type Handler = (call: Call) => Response;

function fakeFetch(...handlers: Handler[]) {
  const calls: Call[] = [];
  const impl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      url: String(input), method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const handler = handlers.shift();
    if (!handler) throw new Error(`unexpected request ${call.method} ${call.url}`);
    return handler(call);
  });
  return { fetch: impl as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const apiError = (status: number, title: string, detail: string, headers = {}) =>
  json(status, { error: { status, title, detail, request_id: "req-1" } }, headers);
// A cookie session's answer: the refresh token stays in the HttpOnly cookie, not here.
const tokens = (access: string, expires = 900): Tokens => ({
  access_token: access, token_type: "Bearer", expires_in: expires,
  user: { id: "u1", email: "me@example.com", tier: "free" },
});

describe("sign-in and tokens", () => {
  it("signs in with development sign-in and sends the access token afterwards", async () => {
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1")),
      () => json(200, { items: [], next_cursor: null }),
    );
    const sessions: (Session | null)[] = [];
    const api = createApi({ fetch, onSession: (s) => sessions.push(s), now: () => 1_000_000 });
    const session = await api.signInDev("me@example.com");
    expect(session.user.email).toBe("me@example.com");
    expect(session.expiresAt).toBe(1_000_000 + 900_000);
    expect(calls[0]).toMatchObject({ url: "/v1/auth/dev", method: "POST",
                                     body: { email: "me@example.com", session: "cookie" } });
    expect(calls[0].headers.Authorization).toBeUndefined();

    await api.listItems();
    expect(calls[1].url).toBe("/v1/items?limit=50");
    expect(calls[1].headers.Authorization).toBe("Bearer A1");
    expect(sessions).toHaveLength(1);
  });

  it("renews an expired access token once and repeats the call", async () => {
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1")),
      () => apiError(401, "Unauthorized", "token expired"),
      () => json(200, tokens("A2")),
      () => json(200, { user: { id: "u1", email: "me@example.com", name: null, tier: "free" },
                        limits: { item_limit: 5, check_interval_minutes: 360, history_days: 30,
                                  manual_checks_per_hour: 5, auto_buy: false },
                        usage: { items: 1 } }),
    );
    const api = createApi({ fetch });
    await api.signInDev("me@example.com");
    const me = await api.me();
    expect(me.usage.items).toBe(1);
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/dev", "/v1/me", "/v1/auth/refresh", "/v1/me"]);
    expect(calls[2].body).toEqual({}); // the cookie carries the refresh token
    expect(calls[3].headers.Authorization).toBe("Bearer A2");
  });

  it("refreshes before a call when the access token is about to expire", async () => {
    let clock = 0;
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1", 60)),
      () => json(200, tokens("A2", 900)),
      () => json(200, { items: [], next_cursor: null }),
    );
    const api = createApi({ fetch, now: () => clock });
    await api.signInDev("me@example.com");
    clock = 45_000; // 15 s left: inside the 30 s margin
    await api.listItems();
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/dev", "/v1/auth/refresh", "/v1/items?limit=50"]);
    expect(calls[2].headers.Authorization).toBe("Bearer A2");
  });

  it("ends the session when the refresh token is refused", async () => {
    const { fetch } = fakeFetch(
      () => json(200, tokens("A1")),
      () => apiError(401, "Unauthorized", "token expired"),
      () => apiError(401, "Unauthorized", "refresh token revoked"),
    );
    const sessions: (Session | null)[] = [];
    const api = createApi({ fetch, onSession: (s) => sessions.push(s) });
    await api.signInDev("me@example.com");
    await expect(api.me()).rejects.toMatchObject({ status: 401 });
    expect(api.signedIn).toBe(false);
    expect(sessions.at(-1)).toBeNull();
  });

  it("signs out: forgets the tokens first, then has the API revoke and clear the cookie", async () => {
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1")),
      () => new Response(null, { status: 204 }),
    );
    const api = createApi({ fetch });
    await api.signInDev("me@example.com");
    await api.signOut();
    expect(api.signedIn).toBe(false);
    expect(calls[1]).toMatchObject({ url: "/v1/auth/logout", method: "POST", body: {} });
    expect(fetch).toHaveBeenLastCalledWith("/v1/auth/logout",
                                           expect.objectContaining({ credentials: "same-origin" }));
  });

  it("resumes the cookie's session after a reload, or says there is none", async () => {
    const { fetch, calls } = fakeFetch(
      () => apiError(401, "Unauthorized", "no session"),
      () => json(200, tokens("A9")),
      () => json(200, { items: [], next_cursor: null }),
    );
    const sessions: (Session | null)[] = [];
    const api = createApi({ fetch, onSession: (s) => sessions.push(s) });
    expect(await api.resume()).toBe(false);
    expect(api.signedIn).toBe(false);
    expect(await api.resume()).toBe(true);
    expect(sessions.map((s) => s?.user.email)).toEqual(["me@example.com"]);
    await api.listItems();
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      ["/v1/auth/refresh", {}], ["/v1/auth/refresh", {}], ["/v1/items?limit=50", undefined]]);
    expect(calls[2].headers.Authorization).toBe("Bearer A9");
  });

  it("asks for no refresh on a first visit: the session hint says there is no cookie", async () => {
    let held = false;
    const sessionHint = { has: () => held, set: (on: boolean) => { held = on; } };
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1")),
      () => new Response(null, { status: 204 }),
      () => apiError(401, "Unauthorized", "the cookie was revoked"),
    );
    const api = createApi({ fetch, sessionHint });
    expect(await api.resume()).toBe(false);
    expect(calls).toEqual([]);
    await api.signInDev("me@example.com");
    expect(held).toBe(true);
    await api.signOut();
    expect(held).toBe(false);
    held = true;  // a reload with a cookie the API has revoked since
    expect(await api.resume()).toBe(false);
    expect(held).toBe(false);
    expect(calls.map((c) => c.url)).toEqual(["/v1/auth/dev", "/v1/auth/logout", "/v1/auth/refresh"]);
  });

  it("exchanges a Google ID token", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, tokens("A1")));
    await createApi({ fetch }).signInGoogle("google-id-token");
    expect(calls[0]).toMatchObject({ url: "/v1/auth/google",
                                     body: { id_token: "google-id-token", session: "cookie" } });
  });
});

describe("errors", () => {
  it("turns the API's error shape into an ApiError with its detail", async () => {
    const { fetch } = fakeFetch(() => apiError(422, "Invalid input", "target_price: must be positive"));
    const api = createApi({ fetch });
    const err = await api.createItem({ url: "https://shop.example/p/1", target_price: "0", currency: "EUR" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, detail: "target_price: must be positive", requestId: "req-1" });
  });

  it("keeps Retry-After of a rate limit", async () => {
    const { fetch } = fakeFetch(() => apiError(429, "Too many requests", "slow down", { "Retry-After": "42" }));
    const err = await createApi({ fetch }).checkNow("i1").catch((e) => e);
    expect(err).toMatchObject({ status: 429, retryAfter: 42 });
  });

  it("reports a network failure as status 0", async () => {
    const fetch = vi.fn(async () => { throw new TypeError("Failed to fetch"); }) as unknown as typeof globalThis.fetch;
    const err = await createApi({ fetch }).billing().catch((e) => e);
    expect(err).toMatchObject({ status: 0, title: "Network error" });
  });

  it("reports a non-JSON error by its status", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const err = await createApi({ fetch }).billing().catch((e) => e);
    expect(err).toMatchObject({ status: 502, title: "Bad Gateway" });
  });
});

describe("requests", () => {
  it("escapes ids, pages with cursors and sends PATCH bodies", async () => {
    const { fetch, calls } = fakeFetch(
      () => json(200, { items: [], next_cursor: null }),
      () => json(200, {}),
      () => new Response(null, { status: 204 }),
      () => json(202, { id: "a/b", check_requested_at: 5 }),
    );
    const api = createApi({ fetch });
    await api.history("a/b", "c+1", 100);
    await api.updateItem("a/b", { target_price: "10.00" });
    await api.deleteItem("a/b");
    const accepted = await api.checkNow("a/b");
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "GET /v1/items/a%2Fb/history?limit=100&cursor=c%2B1",
      "PATCH /v1/items/a%2Fb",
      "DELETE /v1/items/a%2Fb",
      "POST /v1/items/a%2Fb/check",
    ]);
    expect(calls[1].body).toEqual({ target_price: "10.00" });
    expect(accepted.check_requested_at).toBe(5);
  });

  it("reads the public config without a session", async () => {
    const config = { google_client_id: "123.apps.googleusercontent.com", dev_signin: false,
                     tiers: {} };
    const { fetch, calls } = fakeFetch(() => json(200, config));
    expect(await createApi({ fetch }).config()).toEqual(config);
    expect(calls[0]).toMatchObject({ url: "/v1/config", method: "GET" });
    expect(calls[0].headers.Authorization).toBeUndefined();
  });

  it("previews a URL", async () => {
    const { fetch, calls } = fakeFetch(
      () => json(200, tokens("A1")),
      () => json(200, { url: "https://shop.example/p/1", outcome: "blocked", reason: "blocked" }),
    );
    const api = createApi({ fetch });
    await api.signInDev("me@example.com");
    expect((await api.preview("https://shop.example/p/1")).reason).toBe("blocked");
    expect(calls[1]).toMatchObject({ url: "/v1/items/preview", method: "POST",
                                     body: { url: "https://shop.example/p/1" } });
  });
});
