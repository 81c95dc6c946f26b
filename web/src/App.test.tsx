// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { config, fakeServer, item, ME, storeWith, TOKENS } from "./test-support/fakeServer";

vi.mock("uplot", () => ({ default: class { setSize() {} destroy() {} } }));
vi.mock("uplot/dist/uPlot.min.css", () => ({}));

afterEach(() => history.replaceState(null, "", "/"));

function server() {
  let items = [item(), item({ id: "i2", title: "Blocked lamp", current_price: null, last_checked: null,
                              availability: null, check_requested_at: 1_700_000_100,
                              last_outcome: null, last_attempt_at: null, first_price: null })];
  return fakeServer({
    "GET /v1/config": () => ({ status: 200, body: config() }),
    "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    "POST /v1/auth/logout": () => ({ status: 204 }),
    "GET /v1/me": () => ({ status: 200, body: ME }),
    "GET /v1/items": () => ({ status: 200, body: { items, next_cursor: null } }),
    "GET /v1/items/([^/]+)": (_r, [id]) => ({ status: 200, body: items.find((i) => i.id === id) }),
    "DELETE /v1/items/([^/]+)": (_r, [id]) => { items = items.filter((i) => i.id !== id); return { status: 204 }; },
    "GET /v1/items/([^/]+)/history": () => ({ status: 200, body: { items: [
      { checked_at: 1_700_000_600, price: "49.99", currency: "EUR", availability: "in_stock", source: "json-ld" },
      { checked_at: 1_699_990_000, price: "59.99", currency: "EUR", availability: "in_stock", source: "json-ld" },
    ], next_cursor: null } }),
    "POST /v1/items/([^/]+)/check": (_r, [id]) => ({ status: 202, body: { id, check_requested_at: 1_700_000_700 } }),
  });
}

describe("App", () => {
  it("signs in, lists items, opens one, checks it, deletes it and signs out", async () => {
    const api = server();
    const store = storeWith(api.fetch);
    render(<App store={store} />);

    fireEvent.input(await screen.findByLabelText("E-mail address"), { target: { value: "me@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Tracked items" })).toBeTruthy();
    expect(await screen.findByRole("link", { name: "Kettle" })).toBeTruthy();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeTruthy();
    // The item whose checks have not succeeded has no price, only its state.
    expect(screen.getByText(/Check requested/)).toBeTruthy();

    fireEvent.click(screen.getByRole("link", { name: "Kettle" }));
    const h1 = await screen.findByRole("heading", { level: 1, name: "Kettle" });
    expect(location.pathname).toBe("/items/i1");
    await waitFor(() => expect(document.activeElement).toBe(h1));
    expect(await screen.findByText(/Lowest/)).toBeTruthy();
    await waitFor(() => expect(screen.getByText("Since the first price recorded").nextElementSibling!.textContent)
      .toBe("-16.7%"));

    fireEvent.click(screen.getByRole("button", { name: "Check now" }));
    expect(await screen.findByText(/Check requested: the result appears here/)).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Stop tracking this item…" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, stop tracking" }));
    await screen.findByRole("heading", { level: 1, name: "Tracked items" });
    await waitFor(() => expect(screen.queryByRole("link", { name: "Kettle" })).toBeNull());
    expect(api.seen.some((s) => s.method === "DELETE" && s.path === "/v1/items/i1")).toBe(true);

    fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in to AutoBuy Guard" })).toBeTruthy();
    // the refresh token is the API's HttpOnly cookie: sign-out sends no token, the API clears it
    expect(api.seen.at(-1)).toMatchObject({ path: "/v1/auth/logout", body: {} });
    expect(store.get().items).toEqual([]);
  });
});
