import { render } from "preact";
import { App } from "./App";
import { createStore } from "./store";
import "./styles.css";

render(<App store={createStore()} />, document.getElementById("app")!);
