"""A real SMTP server (aiosmtpd) for the tests: it accepts every message and appends it,
decoded, as one JSON line (from, to, header_to, header_from, subject, body) to the file named by its argument.
It prints the port it listens on, then serves until its standard input closes (the test
that started it ended)."""

import asyncio
import email
import json
import sys
from email import policy

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(("plain",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "header_to": str(message["to"]),
            "header_from": str(message["from"]),
            "subject": str(message["subject"]),
            "body": body.get_content() if body is not None else "",
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(sys.argv[1])), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
