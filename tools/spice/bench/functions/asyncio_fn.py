# SPDX-License-Identifier: GPL-2.0
# The Python asyncio function of the cold-start benchmark: an event loop
# (an epoll instance, and a self-pipe that is a socket pair of its own)
# reads requests from stdin as a stream, and answers each after a task
# switch, with a reply and its checksum.  It stands for the event-loop
# runtimes (asyncio servers, Node.js) whose internal pipes restore_process()
# makes anew.
import asyncio
import hashlib
import json
import sys


async def answer(line):
    await asyncio.sleep(0)
    reply = "hello from asyncio"
    checksum = hashlib.sha256((line + reply).encode()).hexdigest()[:16]
    return json.dumps({"reply": reply, "checksum": checksum})


async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                 sys.stdin)
    print(json.dumps({"ready": True}), flush=True)
    while True:
        line = await reader.readline()
        if not line:
            break
        reply = await asyncio.create_task(answer(line.decode()))
        print(reply, flush=True)


asyncio.run(main())
