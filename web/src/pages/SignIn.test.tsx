// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { fakeServer, storeWith, TOKENS } from "../test-support/fakeServer";
import { SignIn } from "./SignIn";

describe("SignIn", () => {
  it("offers development sign-in only when the API routes it, and signs in", async () => {
    const server = fakeServer({
      "GET /openapi.json": () => ({ status: 200, body: { paths: { "/v1/auth/dev": {} } } }),
      "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    });
    const store = storeWith(server.fetch);
    render(<SignIn store={store} googleClientId="" />);
    fireEvent.input(await screen.findByLabelText("E-mail address"), { target: { value: "me@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(store.get().session?.user.email).toBe("me@example.com"));
    expect(server.seen.at(-1)?.body).toEqual({ email: "me@example.com" });
  });

  it("has no development sign-in where the API does not route it", async () => {
    const server = fakeServer({ "GET /openapi.json": () => ({ status: 200, body: { paths: {} } }) });
    render(<SignIn store={storeWith(server.fetch)} googleClientId="" />);
    expect((await screen.findByRole("alert")).textContent).toMatch(/No sign-in method is available/);
    expect(screen.queryByLabelText("E-mail address")).toBeNull();
  });

  it("shows the API's refusal", async () => {
    const server = fakeServer({
      "GET /openapi.json": () => ({ status: 200, body: { paths: { "/v1/auth/dev": {} } } }),
      "POST /v1/auth/dev": () => ({ status: 422, body: { error: { status: 422, title: "Invalid input",
        detail: "email: not a valid e-mail address", request_id: null } } }),
    });
    render(<SignIn store={storeWith(server.fetch)} googleClientId="" />);
    fireEvent.input(await screen.findByLabelText("E-mail address"), { target: { value: "x@y" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("email: not a valid e-mail address");
  });
});
