// The twin's CloudFront Functions runtime (localcloud/twin/edge.py): runs one function's
// code for viewer-request (or viewer-response) events, one JSON event a line on stdin, one
// JSON answer a line on stdout: {"result": <what handler returned>} or {"error": "..."}.
//
// The code runs in a fresh V8 context with nothing but the language's own globals:
// no require(), no process, no modules ('cloudfront' key value stores, 'crypto', 'querystring'
// are refused: a function that imports one fails to load, with that reason). A handler
// that is async or returns a promise is refused too (cloudfront-js-1.0 has none; 2.0's
// await is not supported here). A call running longer than 500 ms (wall clock: a loaded
// machine must not fail a quick function; AWS's limit is on compute utilization, about 1 ms)
// is stopped: a runaway loop must not hang the edge.
'use strict';
const fs = require('fs');
const readline = require('readline');
const vm = require('vm');

const code = fs.readFileSync(process.argv[2], 'utf8');
let context = null;
let loadError = null;
const call = new vm.Script('handler(event)', {filename: 'call.js'});
const imports = code.match(/\b(?:require\s*\(|import\s+[\w{*])/);
if (imports) {
  loadError = `the function imports a module (${imports[0].trim()}...): the twin's edge runs ` +
    'functions without modules (no key value stores, crypto or querystring)';
} else {
  try {
    context = vm.createContext({console: {log: () => {}}});
    new vm.Script(code, {filename: 'function.js'}).runInContext(context, {timeout: 1000});
    if (typeof context.handler !== 'function') {
      loadError = 'the function defines no handler(event)';
    }
  } catch (err) {
    loadError = `the function does not load: ${err && err.message}`;
  }
}

const lines = readline.createInterface({input: process.stdin});
lines.on('line', (line) => {
  let answer;
  if (loadError) {
    answer = {error: loadError};
  } else {
    try {
      context.event = JSON.parse(line);
      const result = call.runInContext(context, {timeout: 500});
      if (result && typeof result.then === 'function') {
        answer = {error: 'the handler returned a promise: async functions are not supported'};
      } else {
        answer = {result: result === undefined ? null : result};
      }
    } catch (err) {
      answer = {error: `the function threw: ${err && err.message}`};
    }
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
