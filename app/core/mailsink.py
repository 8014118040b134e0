"""Local SMTP sink for `make run`: accepts every message and logs a line per message.

Admins read the full messages in the app (Emails); the sink only stands in for a mail server.
"""

import argparse
import asyncio
import logging

from aiosmtpd.controller import Controller

log = logging.getLogger("mailsink")


class LogHandler:
    async def handle_DATA(self, server, session, envelope):
        log.warning(
            "mail from %s to %s (%d bytes)",
            envelope.mail_from,
            ", ".join(envelope.rcpt_tos),
            len(envelope.content),
        )
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    controller = Controller(LogHandler(), hostname=args.host, port=args.port)
    controller.start()
    log.warning("SMTP sink listening on %s:%d", args.host, args.port)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
