// The API client: typed by the generated OpenAPI types (schema.d.ts), one origin (paths
// start with /v1). The access token lives in this closure only; the refresh token never
// reaches script at all: sign-in asks for a cookie session, and the API keeps the refresh
// token in an HttpOnly, SameSite=Strict cookie on /v1/auth that the browser sends along.
// An expired access token is renewed once through that cookie, then the call is repeated;
// a refused refresh ends the session. resume() does the same after a reload, when the
// session hint says this browser holds a cookie session (a first visit asks for nothing).
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type Item = Schemas["Item"];
export type ItemCreate = Schemas["ItemCreate"];
export type ItemPatch = NonNullable<paths["/v1/items/{item_id}"]["patch"]["requestBody"]>["content"]["application/json"];
export type ItemPage = Schemas["ItemPage"];
export type PricePoint = Schemas["PricePoint"];
export type HistoryPage = Schemas["HistoryPage"];
export type Order = Schemas["Order"];
export type OrderPage = Schemas["OrderPage"];
export type Alert = Schemas["Alert"];
export type AlertPage = Schemas["AlertPage"];
export type Me = Schemas["Me"];
export type Billing = Schemas["Billing"];
export type Tokens = Schemas["Tokens"];
export type Preview = Schemas["Preview"];
export type PublicConfig = Schemas["PublicConfig"];
export type User = Tokens["user"];
export type CheckAccepted =
  paths["/v1/items/{item_id}/check"]["post"]["responses"]["202"]["content"]["application/json"];
export type Checkout =
  paths["/v1/billing/checkout"]["post"]["responses"]["201"]["content"]["application/json"];
type ErrorBody = Schemas["Error"];

/** An error answer of the API (its one error shape), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly requestId: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "ApiError";
  }
}

export interface Session {
  user: User;
  /** epoch milliseconds after which the access token is considered expired */
  expiresAt: number;
}

export interface ApiOptions {
  fetch?: typeof fetch;
  /** "" for the page's own origin (production, the Vite dev proxy) */
  baseUrl?: string;
  /** called whenever a session starts, is renewed or ends (null) */
  onSession?: (session: Session | null) => void;
  now?: () => number;
  /** Whether this browser holds a cookie session (no secret: a flag kept across reloads) */
  sessionHint?: SessionHint;
}

/** A flag kept across reloads: set when a cookie session starts, cleared when it ends. */
export interface SessionHint { has(): boolean; set(on: boolean): void }

/** The hint in localStorage (absent storage: always "maybe", so resume() always asks). */
export function storedSessionHint(key = "autobuy.session"): SessionHint {
  return {
    has: () => { try { return localStorage.getItem(key) === "1"; } catch { return true; } },
    set: (on) => {
      try { if (on) localStorage.setItem(key, "1"); else localStorage.removeItem(key); } catch { /* none */ }
    },
  };
}

interface Tokenset { access: string; expiresAt: number }

const EXPIRY_MARGIN_MS = 30_000;

export function createApi(options: ApiOptions = {}) {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.baseUrl ?? "";
  const now = options.now ?? Date.now;
  let tokens: Tokenset | null = null;
  let refreshing: Promise<boolean> | null = null;

  async function errorFrom(resp: Response): Promise<ApiError> {
    const retry = resp.headers.get("Retry-After");
    const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
    try {
      const body = (await resp.json()) as ErrorBody;
      if (body && typeof body.error === "object") {
        const e = body.error;
        return new ApiError(e.status, e.title, e.detail, e.request_id ?? null, retryAfter);
      }
    } catch { /* not the API's JSON error: fall through */ }
    return new ApiError(resp.status, resp.statusText || `HTTP ${resp.status}`, "", null, retryAfter);
  }

  async function send(method: string, path: string, body: unknown, auth: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && tokens) headers.Authorization = `Bearer ${tokens.access}`;
    try {
      return await doFetch(base + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (err) {
      throw new ApiError(0, "Network error", "the API could not be reached; check your connection");
    }
  }

  function start(t: Tokens): Session {
    tokens = { access: t.access_token, expiresAt: now() + t.expires_in * 1000 };
    const session = { user: t.user, expiresAt: tokens.expiresAt };
    options.onSession?.(session);
    return session;
  }

  function end(): void {
    const had = tokens !== null;
    tokens = null;
    options.sessionHint?.set(false);
    if (had) options.onSession?.(null);
  }

  /** A new access token through the session cookie (the empty JSON body says: use it). */
  async function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      const resp = await send("POST", "/v1/auth/refresh", {}, false);
      if (!resp.ok) {
        // A refused refresh (401: no cookie, spent or revoked) ends the session; anything
        // else is the server's trouble: keep the tokens so a later call may try again.
        if (resp.status === 401) end();
        return false;
      }
      start((await resp.json()) as Tokens);
      options.sessionHint?.set(true);
      return true;
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (tokens && tokens.expiresAt - EXPIRY_MARGIN_MS <= now()) await refresh();
    let resp = await send(method, path, body, true);
    if (resp.status === 401 && tokens && (await refresh())) {
      resp = await send(method, path, body, true);
    }
    if (resp.status === 401) end();
    if (!resp.ok) throw await errorFrom(resp);
    return (resp.status === 204 ? undefined : await resp.json()) as T;
  }

  async function signIn(path: string, body: unknown): Promise<Session> {
    const resp = await send("POST", path, body, false);
    if (!resp.ok) throw await errorFrom(resp);
    const session = start((await resp.json()) as Tokens);
    options.sessionHint?.set(true);  // sign-in always asks for the cookie session
    return session;
  }

  const q = (params: Record<string, string | number | null | undefined>): string => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) search.set(k, String(v));
    const text = search.toString();
    return text ? `?${text}` : "";
  };
  const id = encodeURIComponent;

  return {
    get signedIn(): boolean { return tokens !== null; },

    /** Sign-in methods and the tiers' limits of this deployment (public). */
    async config(): Promise<PublicConfig> {
      const resp = await send("GET", "/v1/config", undefined, false);
      if (!resp.ok) throw await errorFrom(resp);
      return (await resp.json()) as PublicConfig;
    },
    /** Pick up the session of the cookie (after a reload); false when there is none. */
    resume: async (): Promise<boolean> =>
      (options.sessionHint && !options.sessionHint.has() ? false : refresh()),
    signInDev: (email: string) => signIn("/v1/auth/dev", { email, session: "cookie" }),
    signInGoogle: (idToken: string) =>
      signIn("/v1/auth/google", { id_token: idToken, session: "cookie" }),
    async signOut(): Promise<void> {
      end();
      // Always: the cookie may outlive this page's tokens; the API revokes and clears it.
      const resp = await send("POST", "/v1/auth/logout", {}, false);
      if (!resp.ok && resp.status !== 401) throw await errorFrom(resp);
    },

    me: () => request<Me>("GET", "/v1/me"),
    listItems: (cursor?: string | null, limit = 50) =>
      request<ItemPage>("GET", `/v1/items${q({ limit, cursor })}`),
    createItem: (item: ItemCreate) => request<Item>("POST", "/v1/items", item),
    preview: (url: string) => request<Preview>("POST", "/v1/items/preview", { url }),
    getItem: (itemId: string) => request<Item>("GET", `/v1/items/${id(itemId)}`),
    updateItem: (itemId: string, patch: ItemPatch) =>
      request<Item>("PATCH", `/v1/items/${id(itemId)}`, patch),
    deleteItem: (itemId: string) => request<void>("DELETE", `/v1/items/${id(itemId)}`),
    history: (itemId: string, cursor?: string | null, limit = 100) =>
      request<HistoryPage>("GET", `/v1/items/${id(itemId)}/history${q({ limit, cursor })}`),
    checkNow: (itemId: string) => request<CheckAccepted>("POST", `/v1/items/${id(itemId)}/check`),
    listOrders: (cursor?: string | null) => request<OrderPage>("GET", `/v1/orders${q({ limit: 50, cursor })}`),
    confirmOrder: (orderId: string) => request<Order>("POST", `/v1/orders/${id(orderId)}/confirm`),
    cancelOrder: (orderId: string) => request<Order>("POST", `/v1/orders/${id(orderId)}/cancel`),
    listAlerts: (cursor?: string | null) => request<AlertPage>("GET", `/v1/alerts${q({ limit: 50, cursor })}`),
    billing: () => request<Billing>("GET", "/v1/billing"),
    checkout: (tier: "pro" | "ultra") => request<Checkout>("POST", "/v1/billing/checkout", { tier }),
  };
}

export type Api = ReturnType<typeof createApi>;
