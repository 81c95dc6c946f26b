// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { fakeServer, item, storeWith, TOKENS } from "../test-support/fakeServer";
import { AddItemForm } from "./AddItemForm";

async function signedInStore(routes: Parameters<typeof fakeServer>[0]) {
  const server = fakeServer({ "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }), ...routes });
  const store = storeWith(server.fetch);
  await store.api.signInDev("me@example.com");
  return { store, server };
}

const type = (label: string, value: string) =>
  fireEvent.input(screen.getByLabelText(label), { target: { value } });

describe("AddItemForm", () => {
  it("labels every field", async () => {
    const { store } = await signedInStore({});
    render(<AddItemForm store={store} />);
    for (const label of ["Product page address", "Alert me at or below", "Currency"]) {
      expect(screen.getByLabelText(label)).toBeTruthy();
    }
    expect(screen.getByRole("button", { name: "Track" })).toBeTruthy();
  });

  it("sends the URL, the target as the API's decimal and the currency, then lists the item", async () => {
    const { store, server } = await signedInStore({
      "POST /v1/items": (req) => ({ status: 201, body: item({ id: "new", ...(req.body as object) }) }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", " https://shop.example/p/1 ");
    type("Alert me at or below", "19,5");
    fireEvent.change(screen.getByLabelText("Currency"), { target: { value: "GBP" } });
    fireEvent.click(screen.getByRole("button", { name: "Track" }));
    await waitFor(() => expect(store.get().items.map((i) => i.id)).toEqual(["new"]));
    expect(server.seen.at(-1)).toMatchObject({
      method: "POST", path: "/v1/items", auth: "Bearer A1",
      body: { url: "https://shop.example/p/1", target_price: "19.50", currency: "GBP" },
    });
    expect((screen.getByLabelText("Product page address") as HTMLInputElement).value).toBe("");
  });

  it("refuses a bad price without calling the API", async () => {
    const { store, server } = await signedInStore({});
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/p/1");
    type("Alert me at or below", "-3");
    fireEvent.click(screen.getByRole("button", { name: "Track" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/positive price/);
    expect(server.seen.map((s) => s.path)).toEqual(["/v1/auth/dev"]);
  });

  it("shows the API's reason when it refuses the item", async () => {
    const { store } = await signedInStore({
      "POST /v1/items": () => ({ status: 403, body: { error: { status: 403, title: "Forbidden",
        detail: "the free tier tracks at most 5 items", request_id: "r" } } }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/p/1");
    type("Alert me at or below", "10");
    fireEvent.click(screen.getByRole("button", { name: "Track" }));
    expect((await screen.findByRole("alert")).textContent).toBe("the free tier tracks at most 5 items");
  });

  it("previews the page, takes its currency and name, then tracks that URL", async () => {
    const preview = { url: "https://shop.example/products/tee?variant=222", outcome: "ok", reason: null,
                      detail: null, name: "Tee (XL)", price: "24.00", currency: "GBP",
                      availability: "out_of_stock", source: "json-ld", checked_at: 1_700_000_000 };
    const { store, server } = await signedInStore({
      "POST /v1/items/preview": () => ({ status: 200, body: preview }),
      "POST /v1/items": (req) => ({ status: 201, body: item({ id: "new", ...(req.body as object) }) }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/products/tee?variant=222");
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    expect(await screen.findByText("Tee (XL)")).toBeTruthy();
    expect(screen.getByText("£24.00")).toBeTruthy();
    expect(screen.getByText("Out of stock")).toBeTruthy();
    expect((screen.getByLabelText("Currency") as HTMLSelectElement).value).toBe("GBP");
    expect((screen.getByLabelText("Alert me at or below") as HTMLInputElement).placeholder).toBe("24.00");
    expect(server.seen.at(-1)).toMatchObject({ method: "POST", path: "/v1/items/preview",
      body: { url: "https://shop.example/products/tee?variant=222" } });
    type("Alert me at or below", "20");
    fireEvent.click(screen.getByRole("button", { name: "Track" }));
    await waitFor(() => expect(store.get().items.map((i) => i.id)).toEqual(["new"]));
    expect(server.seen.at(-1)?.body).toEqual({ url: "https://shop.example/products/tee?variant=222",
      target_price: "20.00", currency: "GBP", title: "Tee (XL)" });
  });

  it.each([
    ["blocked", "Cloudflare challenge", /bot check instead of the page \(Cloudflare challenge\)/],
    ["not_a_product_page", "no price on the page", /No price or availability was found/],
    ["not_allowed", "unsafe redirect: URL host 10.0.0.1 is a private address", /may not be fetched/],
    ["fetch_failed", "HTTP 404", /could not be fetched \(HTTP 404\)/],
  ])("says why a preview found no price (%s), never showing one", async (reason, detail, words) => {
    const { store } = await signedInStore({
      "POST /v1/items/preview": () => ({ status: 200, body: {
        url: "https://shop.example/p/1", outcome: reason === "blocked" ? "blocked" : "failed", reason, detail,
        name: null, price: null, currency: null, availability: null, source: null, checked_at: 1 } }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/p/1");
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByText(words)).textContent).toMatch(words);
    expect(screen.queryByText("Price", { selector: "dt" })).toBeNull();
  });

  it("forgets the preview when the address changes", async () => {
    const { store } = await signedInStore({
      "POST /v1/items/preview": () => ({ status: 200, body: {
        url: "https://shop.example/p/1", outcome: "ok", reason: null, detail: null, name: "Kettle",
        price: "30.00", currency: "EUR", availability: "in_stock", source: "json-ld", checked_at: 1 } }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/p/1");
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    await screen.findByText("Kettle");
    type("Product page address", "https://shop.example/p/2");
    expect(screen.queryByText("Kettle")).toBeNull();
  });

  it("shows the rate limit when previews are used up", async () => {
    const { store } = await signedInStore({
      "POST /v1/items/preview": () => ({ status: 429, body: { error: { status: 429, title: "Too many requests",
        detail: "5 checks per hour on the free tier.", request_id: null } } }),
    });
    render(<AddItemForm store={store} />);
    type("Product page address", "https://shop.example/p/1");
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByRole("alert")).textContent).toBe("5 checks per hour on the free tier.");
  });

  it("previews nothing that is not a web address", async () => {
    const { store, server } = await signedInStore({});
    render(<AddItemForm store={store} />);
    type("Product page address", "kettle");
    fireEvent.click(screen.getByRole("button", { name: "Preview" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/starting with https:\/\//);
    expect(server.seen.map((s) => s.path)).toEqual(["/v1/auth/dev"]);
  });
});
