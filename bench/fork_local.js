// The local baseline of the Fork benchmark: child_process.fork() of MODULE,
// N times one after the other, each timed from fork() until its one message
// and its 'exit' have both arrived. Prints the times in milliseconds as one
// JSON array. argv: MODULE N.
'use strict';
const {fork} = require('child_process');
const [modulePath, count] = [process.argv[2], Number(process.argv[3])];
const times = [];

function once() {
  if (times.length === count) {
    console.log(JSON.stringify(times));
    return;
  }
  const start = process.hrtime.bigint();
  const child = fork(modulePath, [], {stdio: 'ignore', serialization: 'json'});
  let message = false;
  let exited = false;
  const done = () => {
    if (!message || !exited) return;
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    once();
  };
  child.on('message', () => { message = true; done(); });
  child.on('exit', () => { exited = true; done(); });
}
once();
