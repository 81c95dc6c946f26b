// Unmount what each test rendered (vitest runs without globals, so Testing Library's
// automatic cleanup is not registered by itself).
import { cleanup } from "@testing-library/preact";
import { afterEach } from "vitest";

afterEach(cleanup);
