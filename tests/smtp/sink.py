"""A real SMTP server for the notifier's tests (aiosmtpd, from PyPI).

Every accepted message is written to DIR as NNNNNN.eml (written to a
temporary name, then renamed, so a reader never sees half a file). The
behaviour the tests need is chosen on the command line:

  --tempfail N      answer 451 to the first N deliveries of each Message-ID
  --reject SUBSTR   answer 550 to RCPT TO addresses containing SUBSTR
  --delay-ms MS     wait this long before answering DATA (a slow server)

It prints "ready PORT" on stdout once it listens, and runs until killed.
"""

import argparse
import asyncio
import email.parser
import itertools
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, tempfail, reject, delay):
        self.out = out
        self.tempfail = tempfail
        self.reject = reject
        self.delay = delay
        self.tries = {}
        self.seq = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay / 1000.0)
        headers = email.parser.BytesHeaderParser().parsebytes(envelope.content)
        mid = headers.get("Message-ID", "")
        n = self.tries.get(mid, 0) + 1
        self.tries[mid] = n
        if n <= self.tempfail:
            return "451 4.3.0 try again later (attempt %d)" % n
        name = "%06d.eml" % next(self.seq)
        tmp = os.path.join(self.out, "." + name)
        with open(tmp, "wb") as f:
            f.write(envelope.content)
        os.rename(tmp, os.path.join(self.out, name))
        return "250 2.0.0 accepted as " + name


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--tempfail", type=int, default=0)
    p.add_argument("--reject", default="")
    p.add_argument("--delay-ms", type=int, default=0)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    c = Controller(
        Sink(a.dir, a.tempfail, a.reject, a.delay_ms),
        hostname="127.0.0.1",
        port=a.port,
        decode_data=False,
    )
    c.start()
    print("ready", a.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        c.stop(no_assert=True)


if __name__ == "__main__":
    main()
