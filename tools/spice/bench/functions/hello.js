// SPDX-License-Identifier: GPL-2.0
// The Node.js "hello" function of the cold-start benchmark: reports ready,
// then answers each request line with a reply and its checksum.
'use strict';
const crypto = require('crypto');
const readline = require('readline');

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  const reply = 'hello';
  const checksum = crypto.createHash('sha256').update(line + '\n' + reply)
    .digest('hex').slice(0, 16);
  process.stdout.write(JSON.stringify({ reply, checksum }) + '\n');
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
