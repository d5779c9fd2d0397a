// SPDX-License-Identifier: GPL-2.0
// The Node.js "json" function of the cold-start benchmark: builds a
// document at start, then for each request serialises and parses it again
// and replies with a checksum of the result.
'use strict';
const crypto = require('crypto');
const readline = require('readline');

const doc = {
  items: Array.from({ length: 2000 }, (_, i) => ({
    id: i, name: `item-${i}`, tags: ['a', 'b', String(i % 7)], price: i * 1.25,
  })),
};

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  const text = JSON.stringify(JSON.parse(JSON.stringify(doc)));
  const checksum = crypto.createHash('sha256').update(line + '\n' + text)
    .digest('hex').slice(0, 16);
  process.stdout.write(JSON.stringify({ reply: text.length, checksum }) + '\n');
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
