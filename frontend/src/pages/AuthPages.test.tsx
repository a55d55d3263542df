import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeGateway, fan, renderPage } from "../test-utils";
import { SignInPage, SignUpPage } from "./AuthPages";

afterEach(() => vi.unstubAllGlobals());

describe("sign up", () => {
  it("ties each error to its field and focuses the first one", async () => {
    fakeGateway(() => undefined);
    renderPage("/signup", "/signup", <SignUpPage />, false);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "not-an-email");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    const name = screen.getByLabelText("Name");
    expect(name.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(name);
    const described = name.getAttribute("aria-describedby")!;
    expect(document.getElementById(described)!.textContent).toBe("Enter your name (at least 2 characters).");
    const password = screen.getByLabelText("Password");
    expect(password.getAttribute("aria-describedby")!.split(" ").map((id) => document.getElementById(id)!.textContent)).toEqual([
      "At least 8 characters.",
      "Use at least 8 characters.",
    ]);
  });

  it("shows the service's field errors and a taken email", async () => {
    fakeGateway((method, path) => {
      if (method === "POST" && path === "/api/users/register")
        return { status: 409, body: { error: { code: "EMAIL_ALREADY_EXISTS", message: "taken", requestId: "r" } } };
    });
    renderPage("/signup", "/signup", <SignUpPage />, false);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Name"), "Asha");
    await user.type(screen.getByLabelText("Email"), "asha@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("An account with this email already exists. Sign in instead.")).toBeTruthy();
    expect(screen.getByLabelText("Email").getAttribute("aria-invalid")).toBe("true");
  });
});

describe("sign in", () => {
  it("says when the credentials do not match, as an alert", async () => {
    fakeGateway((method, path) => {
      if (method === "POST" && path === "/api/users/login")
        return { status: 401, body: { error: { code: "INVALID_CREDENTIALS", message: "no", requestId: "r" } } };
    });
    renderPage("/signin", "/signin", <SignInPage />, false);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "asha@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("That email and password do not match an account.");
  });

  it("signs in and goes where the visitor was headed, never off-site", async () => {
    const calls = fakeGateway((method, path) => {
      if (method === "POST" && path === "/api/users/login")
        return { status: 200, body: { token: "t", expiresAt: "2027-01-01T00:00:00.000Z", user: fan } };
    });
    renderPage("/signin?next=//evil.example", "/signin", <SignInPage />, false);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Email"), "asha@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("elsewhere")).toBeTruthy();
    expect(localStorage.getItem("ticketflow.token")).toBe("t");
    expect(calls[0].body).toEqual({ email: "asha@example.com", password: "correct horse" });
  });
});
