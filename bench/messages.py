"""Conversation measurements for `make bench` (issue 5 targets), called from bench/run.py, on
the scale dataset (5 million messages, `flask seed scale`):

- the page of a thread holding 10 000 messages, as its client (wrk, 16 connections);
- message search on PostgreSQL over the 5 million: as an admin (every thread) and as the expert
  with the most threads, for a frequent word, two words and a rarer word (wrk);
- live delivery: 1 000 logged-in Socket.IO clients spread over two realtime processes; 50
  clients post over HTTP, one at a time, in threads whose expert's socket is on the *other*
  process; the time from the start of the POST to the expert's socket receiving
  `message:new`. Beside it, in the same run, a bare python-socketio echo server under the same
  gunicorn/gevent configuration: 1 000 sockets over two processes, round trip of an `echo`.
"""

import asyncio
import gc
import os
import re
import select
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import requests

from bench import platform_app
from bench.dossiers import _signed_session, settle

SOCKETS = int(os.environ.get("BENCH_SOCKETS", "1000"))
PAIRS = 50
POSTS = int(os.environ.get("BENCH_POSTS", "500"))


def _app():

    return platform_app()


def _scale_threads():
    """(thread id, client id, expert id) of the scale dossiers' threads, oldest first: the
    first is the one with 10 000 messages."""
    from app.extensions import db
    from app.models import Dossier, Thread

    return (
        db.select(Thread.id, Dossier.client_id, Dossier.expert_id)
        .join(Dossier, Dossier.id == Thread.dossier_id)
        .where(Dossier.source == "scale")
        .order_by(Thread.id)
    )


def _long_thread() -> tuple[int, int, int]:
    """(thread id, client id, expert id) of the scale thread with 10 000 messages."""
    from app.extensions import db
    from app.models import Message

    app = _app()
    with app.app_context():
        first = db.session.execute(_scale_threads().limit(1)).one()
        count = db.session.scalar(
            db.select(db.func.count(Message.id)).where(Message.thread_id == first[0])
        )
        print(f"long thread {first[0]}: {count} messages")
        return tuple(first)


def _busiest_expert() -> tuple[int, int]:
    from app.extensions import db
    from app.models import Role, ThreadParticipant, User

    app = _app()
    with app.app_context():
        return db.session.execute(
            db.select(ThreadParticipant.user_id, db.func.count())
            .join(User, User.id == ThreadParticipant.user_id)
            .where(User.role == Role.EXPERT)
            .group_by(ThreadParticipant.user_id)
            .order_by(db.func.count().desc())
            .limit(1)
        ).one()


def _cookie(user_id: int) -> str:
    return f"session={_signed_session(user_id)}"


def page_and_search(app_url: str, wrk_script, admin_cookie: str) -> dict:
    settle("the measurements before")
    thread_id, client_id, _expert = _long_thread()
    expert_id, threads = _busiest_expert()
    client_cookie, expert_cookie = _cookie(client_id), _cookie(expert_id)
    cases = {"thread page, 10 000 messages": (f"{app_url}/messages/{thread_id}", client_cookie)}
    for who, cookie in (("admin", admin_cookie), (f"expert, {threads} threads", expert_cookie)):
        for q in ("remboursement", "attestation urssaf", "kbis"):
            cases[f"search '{q}' as {who}"] = (
                f"{app_url}/messages/search?q={quote(q)}",
                cookie,
            )
    results = {}
    for name, (url, cookie) in cases.items():
        resp = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False)
        assert resp.status_code == 200 and "/logout" in resp.text, f"{name}: {resp.status_code}"
        if "search" in name:
            hits = len(re.findall(r"<mark>", resp.text))
            print(f"{name}: {hits} highlighted words on the first page")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, cookie) in cases.items():
            setup = f'wrk.headers["Cookie"] = "{cookie}"\n'
            wrk_script(url, setup, Path(tmp))  # warm-up (caches, plans)
            results[name] = wrk_script(url, setup, Path(tmp))
            results[name]["alone"] = wrk_script(url, setup, Path(tmp), users=1)
    print("\n## Conversations, 5 million messages on PostgreSQL")
    print("wrk -t2 -c16 (16 users at once), and one user alone (wrk -t1 -c1)\n")
    for name, r in results.items():
        alone = r["alone"]
        print(
            f"{name:45} c16: {r['rps']:5.0f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
            f"  CPU {r['cpu_ms']:5.2f} ms/req"
            f"   alone: p50 {alone['p50']:5.1f} ms  p95 {alone['p95']:5.1f} ms"
        )
    return results


# -- live delivery -------------------------------------------------------------------------------


def _pairs_and_crowd(n_pairs: int, crowd: int):
    """n_pairs (thread, client, expert) of distinct people, and `crowd` other client ids."""
    from app.extensions import db
    from app.models import Role, User

    app = _app()
    with app.app_context():
        rows = db.session.execute(_scale_threads().offset(1).limit(n_pairs * 20)).all()
        seen, pairs = set(), []
        for thread_id, client_id, expert_id in rows:
            if client_id in seen or expert_id in seen:
                continue
            seen |= {client_id, expert_id}
            pairs.append((thread_id, client_id, expert_id))
            if len(pairs) == n_pairs:
                break
        others = db.session.scalars(
            db.select(User.id)
            .where(User.role == Role.CLIENT, User.id.not_in(seen))
            .order_by(User.id)
            .limit(crowd)
        ).all()
        return pairs, list(others)


def _csrf(app_url: str, cookie: str, thread_id: int) -> tuple[str, str]:
    """The thread page's CSRF token and the session cookie that holds it."""
    resp = requests.get(f"{app_url}/messages/{thread_id}", headers={"Cookie": cookie})
    token = re.search(r'"X-CSRFToken": "([^"]+)"', resp.text).group(1)
    new = resp.cookies.get("session")
    return token, (f"session={new}" if new else cookie)


class _Poster:
    """Posts a message as a browser does (a form, its session cookie, its CSRF token) on one
    kept-alive connection, every byte built before the clock starts, as wrk does. A Python HTTP
    client builds the request and parses its answer inside the timed interval, and it shares
    its process with the socket that is timed: that was this client's time, not the platform's.
    The answer is still read whole and its status checked."""

    def __init__(self, app_url: str):
        url = urlsplit(app_url)
        self.address = (url.hostname, url.port or 80)
        self.sock: socket.socket | None = None

    def request(self, path: str, cookie: str, form: dict, request_id: str) -> bytes:
        body = urlencode(form).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.address[0]}:{self.address[1]}\r\n"
            f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\n\r\n"
        )
        return head.encode() + body

    def _connected(self) -> socket.socket:
        # an idle connection the server has closed meanwhile reads as ready (end of stream)
        if self.sock is not None and select.select([self.sock], [], [], 0)[0]:
            self.sock.close()
            self.sock = None
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def send(self, raw: bytes, clock) -> tuple[int, float]:
        """(status, ms until the answer's headers were in); `clock(t0)` as the request leaves."""
        sock = self._connected()
        t0 = time.perf_counter()
        clock(t0)
        sock.sendall(raw)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the web closed the connection before answering")
            answer += chunk
        answered = (time.perf_counter() - t0) * 1000
        head, _, body = answer.partition(b"\r\n\r\n")
        fields = head.decode("latin-1").lower()
        length = int(re.search(r"content-length: *(\d+)", fields).group(1))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the web closed the connection within its answer")
            body += chunk
        if "connection: close" in fields:
            sock.close()
            self.sock = None
        return int(head.split(b" ", 2)[1]), answered


async def _connect_all(urls_and_cookies, on_notify):
    import socketio

    clients = []

    async def one(url, cookie, tag):
        client = socketio.AsyncClient(reconnection=False)
        client.on("notify", lambda data, tag=tag: on_notify(tag, data))
        client.on("echo", lambda data, tag=tag: on_notify(tag, data))
        await client.connect(
            url, headers={"Cookie": cookie} if cookie else {}, transports=["websocket"]
        )
        clients.append((tag, client))

    for i in range(
        0, len(urls_and_cookies), 50
    ):  # batches: 1 000 handshakes at once is another test
        await asyncio.gather(*(one(*args) for args in urls_and_cookies[i : i + 50]))
    # the 1 000 clients are this process's heap from now on: frozen, the collector no longer
    # walks them, and a full collection no longer stops the measuring client for 100-250 ms
    # while it times a delivery
    gc.collect()
    gc.freeze()
    return clients


async def _post_to_socket(app_url: str, realtimes: list[str]) -> list[float]:
    pairs, crowd = _pairs_and_crowd(PAIRS, max(0, SOCKETS - 2 * PAIRS))
    started: dict[int, float] = {}
    got: list[float] = []
    arrived = asyncio.Event()

    def on_notify(tag, data):
        if tag == "expert" and data.get("event") == "message:new":
            t0 = started.pop(data["thread_id"], None)
            if t0 is not None:
                got.append((time.perf_counter() - t0) * 1000)
                arrived.set()

    # the client of each pair on the first process, the expert on the second, the crowd halved
    plan = [(realtimes[0], _cookie(c), "client") for _t, c, _e in pairs]
    plan += [(realtimes[1], _cookie(e), "expert") for _t, _c, e in pairs]
    plan += [(realtimes[i % 2], _cookie(u), "crowd") for i, u in enumerate(crowd)]
    clients = await _connect_all(plan, on_notify)
    print(f"{len(clients)} sockets connected over 2 realtime processes")
    loop = asyncio.get_running_loop()
    senders = []
    for thread_id, client_id, _e in pairs:
        token, cookie = await loop.run_in_executor(
            None, _csrf, app_url, _cookie(client_id), thread_id
        )
        senders.append((thread_id, token, cookie))
    poster = _Poster(app_url)

    def post(thread_id, token, cookie, n):
        raw = poster.request(
            f"/messages/{thread_id}",
            cookie,
            {"csrf_token": token, "body": f"Bench message {n}"},
            # a slow one's line in the web log (SLOW_REQUEST_MS) carries the number printed for
            # it below (the 20 warm-up posts come first)
            f"bench-post-{n - 20}",
        )

        def clock(t0):
            started[thread_id] = t0

        status, answered = poster.send(raw, clock)
        assert status == 303, status
        return answered

    pauses = _GcPauses()
    # per timed post: its delivery, when its HTTP answer came, and the CPU time the host
    # stole meanwhile
    timeline: list[tuple[float | None, float, int]] = []
    for n in range(POSTS + 20):  # the first 20 warm up
        thread_id, token, cookie = senders[n % len(senders)]
        arrived.clear()
        before = _stolen_ms()
        answered = await loop.run_in_executor(None, post, thread_id, token, cookie, n)
        try:
            await asyncio.wait_for(arrived.wait(), timeout=5)
        except TimeoutError:
            started.pop(thread_id, None)
            print(f"post {n}: no signal within 5 s")
        delivered = got[-1] if arrived.is_set() else None
        timeline.append((delivered, answered, _stolen_ms() - before))
        if n == 19:
            got.clear()
            timeline.clear()
            pauses.start()
            tcp, stolen = _tcp_counters(), _stolen_ms()
        await asyncio.sleep(0.01)
    pauses.stop()
    # what a slow delivery can be told apart by, for whoever reads the run: the web's answer
    # (slow there: the post itself; fast: Redis or the realtime process), the CPU the host
    # took meanwhile, the measuring client's own collections, and the kernel's retransmissions
    # (a lost segment on loopback waits for the 200 ms minimum retransmission timeout)
    after = _tcp_counters()
    slow = [
        f"#{n} {ms:.0f} (answer {answered:.0f}, stolen {took})"
        for n, (ms, answered, took) in enumerate(timeline)
        if ms and ms > 50
    ]
    print(f"deliveries over 50 ms, ms: {'; '.join(slow) or 'none'}")
    # the web's share of every delivery: what is left is Redis, the realtime process and this
    # client's event loop
    answers = _summary([answered for _d, answered, _s in timeline])
    print(
        "the HTTP answer to each post, as this client got it: "
        f"p50 {answers['p50']:.1f} ms, p95 {answers['p95']:.1f} ms, p99 {answers['p99']:.1f} ms"
    )
    print(
        f"measuring client's GC pauses over 5 ms while timing: {pauses.summary()}; kernel TCP "
        + ", ".join(f"{k} +{after[k] - tcp[k]}" for k in tcp)
        # a virtual machine's CPUs can be taken away by the host: "steal" in /proc/stat
        + f"; CPU time stolen by the host: {_stolen_ms() - stolen} ms"
    )
    await asyncio.gather(*(c.disconnect() for _t, c in clients))
    return got


class _GcPauses:
    def __init__(self) -> None:
        self.found: list[float] = []
        self._began = 0.0

    def _callback(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif (ms := (time.perf_counter() - self._began) * 1000) > 5:
            self.found.append(ms)

    def start(self) -> None:
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        return f"{len(self.found)} (max {max(self.found):.0f} ms)" if self.found else "none"


def _stolen_ms() -> int:
    """CPU time the hypervisor gave to others while this machine's CPUs wanted it (all CPUs,
    since boot)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) * 1000 // os.sysconf("SC_CLK_TCK")


def _tcp_counters() -> dict[str, int]:
    """Retransmitted segments, retransmission timeouts and tail-loss probes since boot."""
    found = {}
    for path, prefix, names in (
        ("/proc/net/snmp", "Tcp:", ("RetransSegs",)),
        ("/proc/net/netstat", "TcpExt:", ("TCPTimeouts", "TCPLossProbes")),
    ):
        header, values = [
            line.split() for line in Path(path).read_text().splitlines() if line.startswith(prefix)
        ][:2]
        found.update({name: int(values[header.index(name)]) for name in names})
    return found


async def _echo(echoes: list[str]) -> list[float]:
    got: list[float] = []
    sent: dict[int, float] = {}
    arrived = asyncio.Event()

    def on_echo(_tag, data):
        t0 = sent.pop(data.get("n"), None)
        if t0 is not None:
            got.append((time.perf_counter() - t0) * 1000)
            arrived.set()

    plan = [(echoes[i % 2], None, "echo") for i in range(SOCKETS)]
    clients = await _connect_all(plan, on_echo)
    print(f"{len(clients)} sockets connected over 2 bare echo processes")
    for n in range(POSTS + 20):
        _tag, client = clients[(n * 37) % len(clients)]
        arrived.clear()
        sent[n] = time.perf_counter()
        await client.emit("echo", {"n": n})
        try:
            await asyncio.wait_for(arrived.wait(), timeout=5)
        except TimeoutError:
            print(f"echo {n}: no answer within 5 s")
        if n == 19:
            got.clear()
        await asyncio.sleep(0.01)
    await asyncio.gather(*(c.disconnect() for _t, c in clients))
    return got


def _summary(values: list[float]) -> dict:
    values = sorted(values)
    q = statistics.quantiles(values, n=100)
    return {"n": len(values), "p50": q[49], "p95": q[94], "p99": q[98], "max": values[-1]}


def live(app_url: str) -> dict:
    # This process both posts (a thread blocked in HTTP) and listens (the event loop): with
    # Python's default 5 ms GIL switch interval, a signal that lands while the posting thread
    # parses its answer waits up to 5 ms here, in the measuring client, not in the platform.
    sys.setswitchinterval(0.0005)
    settle("the conversation pages")
    realtimes = [os.environ["REALTIME_URL"], os.environ["REALTIME2_URL"]]
    echoes = os.environ["ECHO_URLS"].split(",")
    results = {
        "message post -> other participant's socket": _summary(
            asyncio.run(_post_to_socket(app_url, realtimes))
        ),
        "bare Socket.IO echo (round trip)": _summary(asyncio.run(_echo(echoes))),
    }
    print(f"\n## Live delivery: {SOCKETS} sockets over two processes, one message at a time")
    for name, r in results.items():
        print(
            f"{name:45} {r['n']:4d}  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms  max {r['max']:6.1f} ms"
        )
    return results
