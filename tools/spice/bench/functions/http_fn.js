// SPDX-License-Identifier: GPL-2.0
// A Node.js function that serves HTTP with its http module, as platforms
// run them: it listens on the address its arguments give (default
// 127.0.0.1 8080) and answers every GET or POST with the JSON reply and
// checksum that http_fn.py gives, byte for byte.
'use strict';
const crypto = require('crypto');
const http = require('http');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 8080);

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const reply = 'hello';
    const checksum = crypto.createHash('sha256')
      .update(Buffer.concat([Buffer.concat(chunks), Buffer.from(reply)]))
      .digest('hex').slice(0, 16);
    const body = `{"reply": "${reply}", "checksum": "${checksum}"}`;
    res.writeHead(200, { 'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, host);
