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
});
