import { describe, expect, it } from "vitest";
import { ApiError } from "./api/client";
import { describeError } from "./store";
import { config, fakeServer, item, storeWith, TOKENS } from "./test-support/fakeServer";

describe("store", () => {
  it("pages through the items with the API's cursor", async () => {
    const server = fakeServer({
      "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
      "GET /v1/items": (req) => (req.path.includes("cursor=c2")
        ? { status: 200, body: { items: [item({ id: "b" })], next_cursor: null } }
        : { status: 200, body: { items: [item({ id: "a" })], next_cursor: "c2" } }),
    });
    const store = storeWith(server.fetch);
    await store.api.signInDev("me@example.com");
    await store.loadItems();
    expect(store.get().itemsCursor).toBe("c2");
    await store.loadItems(true);
    expect(store.get().items.map((i) => i.id)).toEqual(["a", "b"]);
    expect(store.get().itemsCursor).toBeNull();
  });

  it("forgets the user's data when the session ends, keeping what the API offers for sign-in", async () => {
    const server = fakeServer({
      "GET /v1/config": () => ({ status: 200, body: config() }),
      "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
      "GET /v1/items": () => ({ status: 200, body: { items: [item()], next_cursor: null } }),
      "POST /v1/auth/logout": () => ({ status: 204 }),
    });
    const store = storeWith(server.fetch);
    await store.loadConfig();
    await store.api.signInDev("me@example.com");
    await store.loadItems();
    expect(store.get().session?.user.email).toBe("me@example.com");
    await store.signOut();
    expect(store.get()).toMatchObject({ session: null, items: [], itemsLoaded: false, config: config(),
                                        notice: { text: "You are signed out." } });
  });

  it("starts with the cookie's session after a reload, and without one when there is none", async () => {
    let cookie = true;
    const server = fakeServer({
      "GET /v1/config": () => ({ status: 200, body: config() }),
      "POST /v1/auth/refresh": () => (cookie ? { status: 200, body: TOKENS }
        : { status: 401, body: { error: { status: 401, title: "Unauthorized", detail: "no session",
                                            request_id: null } } }),
    });
    const store = storeWith(server.fetch);
    const started = store.start();
    expect(store.get().resuming).toBe(true);
    await started;
    expect(store.get()).toMatchObject({ resuming: false, config: config(),
                                        session: { user: { email: "me@example.com" } } });
    cookie = false;
    const fresh = storeWith(server.fetch);
    await fresh.start();
    expect(fresh.get()).toMatchObject({ resuming: false, session: null, config: config() });
  });

  it("says so when the config cannot be loaded", async () => {
    const store = storeWith(fakeServer({}).fetch);
    await store.loadConfig();
    expect(store.get()).toMatchObject({ config: null, configError: true });
  });

  it("puts a rate limit's wait into words", () => {
    expect(describeError(new ApiError(429, "Too many requests", "5 checks per hour.", null, 120)))
      .toBe("5 checks per hour. Try again in 120 s.");
    expect(describeError(new ApiError(503, "Service unavailable", ""))).toBe("Service unavailable");
  });
});
