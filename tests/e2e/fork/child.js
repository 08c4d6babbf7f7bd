// A Node child for the Fork tests, run unmodified through rexecd's channel.
// Modes (argv[2]):
//   echo         sends {ready, argv} at once, then echoes every message;
//                on "bye" it disconnects itself once the echo left (Node
//                closes the channel with its queued writes dropped); on
//                'disconnect' it prints "child saw disconnect" and ends with
//                code 3.
//   burst N      sends N numbered messages and exits in the last one's
//                callback, so every message is in the channel before exit.
//   handle       tries to send a net.Server handle, then {after: true}, then
//                echoes like echo.
//   stdin        reads stdin to its end, sends {stdin: TEXT}, disconnects.
//   flood N SIZE sends N messages of SIZE bytes, each after the previous one
//                left (so it blocks when nobody reads), then exits.
'use strict';
const mode = process.argv[2];

function echo() {
  process.on('message', (m) => {
    process.send({echo: m}, () => {
      if (m === 'bye') process.disconnect();
    });
  });
  process.on('disconnect', () => {
    console.log('child saw disconnect');
    process.exitCode = 3;
  });
}

if (mode === 'echo') {
  process.send({ready: true, argv: process.argv.slice(3)});
  echo();
} else if (mode === 'burst') {
  const n = Number(process.argv[3]);
  for (let i = 0; i < n; i++) {
    process.send({seq: i, pad: 'x'.repeat(100)},
                 i === n - 1 ? () => process.exit(0) : undefined);
  }
} else if (mode === 'handle') {
  const server = require('net').createServer();
  server.listen(0, '127.0.0.1', () => {
    process.send('a handle', server, (err) => {
      process.send({sent: err ? err.code : 'ok'});
      server.close();
    });
    process.send({after: true});
    echo();
  });
} else if (mode === 'stdin') {
  let text = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d) => { text += d; });
  process.stdin.on('end', () => {
    process.send({stdin: text}, () => process.disconnect());
  });
} else if (mode === 'flood') {
  const n = Number(process.argv[3]);
  const payload = 'y'.repeat(Number(process.argv[4]));
  const next = (i) => {
    if (i === n) process.exit(0);
    process.send({i, payload}, () => next(i + 1));
  };
  next(0);
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
