// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { config, fakeServer, storeWith, TOKENS } from "../test-support/fakeServer";
import { SignIn } from "./SignIn";

describe("SignIn", () => {
  it("offers development sign-in only when the API routes it, and signs in", async () => {
    const server = fakeServer({
      "GET /v1/config": () => ({ status: 200, body: config() }),
      "POST /v1/auth/dev": () => ({ status: 200, body: TOKENS }),
    });
    const store = storeWith(server.fetch);
    render(<SignIn store={store} googleClientId="" />);
    fireEvent.input(await screen.findByLabelText("E-mail address"), { target: { value: "me@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(store.get().session?.user.email).toBe("me@example.com"));
    expect(server.seen.at(-1)?.body).toEqual({ email: "me@example.com", session: "cookie" });
  });

  it("has no development sign-in where the API does not route it", async () => {
    const server = fakeServer({ "GET /v1/config": () => ({ status: 200, body: config({ dev_signin: false }) }) });
    render(<SignIn store={storeWith(server.fetch)} googleClientId="" />);
    expect((await screen.findByRole("alert")).textContent).toMatch(/No sign-in method is available/);
    expect(screen.queryByLabelText("E-mail address")).toBeNull();
  });

  it("shows the API's refusal", async () => {
    const server = fakeServer({
      "GET /v1/config": () => ({ status: 200, body: config() }),
      "POST /v1/auth/dev": () => ({ status: 422, body: { error: { status: 422, title: "Invalid input",
        detail: "email: not a valid e-mail address", request_id: null } } }),
    });
    render(<SignIn store={storeWith(server.fetch)} googleClientId="" />);
    fireEvent.input(await screen.findByLabelText("E-mail address"), { target: { value: "x@y" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("email: not a valid e-mail address");
  });

  it("takes the Google client id from the API's config", async () => {
    const server = fakeServer({
      "GET /v1/config": () => ({ status: 200, body: config({ google_client_id: "123.apps.googleusercontent.com",
                                                            dev_signin: false }) }),
    });
    const gis = { initialize: vi.fn(), renderButton: vi.fn() };
    window.google = { accounts: { id: gis } };
    try {
      render(<SignIn store={storeWith(server.fetch)} />);
      fireEvent.click(await screen.findByRole("button", { name: "Continue with Google" }));
      await waitFor(() => expect(gis.renderButton).toHaveBeenCalledTimes(1));
      expect(gis.initialize.mock.calls[0][0].client_id).toBe("123.apps.googleusercontent.com");
      expect(screen.queryByText(/No sign-in method is available/)).toBeNull();
    } finally {
      delete window.google;
    }
  });

  it("says so when the API's config cannot be read", async () => {
    render(<SignIn store={storeWith(fakeServer({}).fetch)} />);
    expect((await screen.findByRole("alert")).textContent).toMatch(/sign-in methods could not be loaded/);
  });
});
