"""compat/mc_check.py - a memcached client that checks every answer.

    python3 mc_check.py PORT [CONNS [KEYS]]     (defaults 64 connections,
                                                 1,000 keys per connection)

Plain text protocol over CONNS concurrent TCP connections (one Python
thread each).  Per connection c, for keys k in 0..KEYS-1:
  set c:k with a value of 1..8,000 bytes derived from (c, k) and flags
  (c*KEYS+k) % 65536; each "set" must answer STORED;
then "get" every key back one by one, and again in multi-gets of 50 keys:
every value and flag must be exactly what was stored, every key present;
then per connection: incr/decr of a counter by known steps (exact final
value), "cas" with the right and a stale unique (STORED / EXISTS), "add" of
an existing key (NOT_STORED), delete of every 10th key (DELETED) and a get
of it (absent).  Prints "ok: ..." with the counts, or "FAIL: ..." lines.
Exit status 0 only when every answer was right.
"""
import hashlib
import socket
import sys
import threading

PORT = int(sys.argv[1])
CONNS = int(sys.argv[2]) if len(sys.argv) > 2 else 64
KEYS = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
failures = []
counts = {"set": 0, "get": 0, "multiget": 0, "other": 0}
lock = threading.Lock()


def value_of(c, k):
    n = 1 + (c * 7919 + k * 104729) % 8000
    seed = hashlib.sha256(f"{c}:{k}".encode()).digest()
    return (seed * (n // 32 + 1))[:n]


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def get_many(self, keys, with_cas=False):
        self.send((("gets " if with_cas else "get ") + " ".join(keys) + "\r\n").encode())
        out = {}
        while True:
            ln = self.line().split()
            if ln[0] == b"END":
                return out
            assert ln[0] == b"VALUE", ln
            data = self.exact(int(ln[3]))
            out[ln[1].decode()] = (int(ln[2]), data, int(ln[4]) if with_cas else None)

    def cmd(self, text, data=None):
        self.send(text.encode() + b"\r\n" + (data + b"\r\n" if data is not None else b""))
        return self.line()


def fail(msg):
    with lock:
        failures.append(msg)


def worker(c):
    try:
        m = Conn()
        for k in range(KEYS):
            v = value_of(c, k)
            r = m.cmd(f"set {c}:{k} {(c * KEYS + k) % 65536} 0 {len(v)}", v)
            if r != b"STORED":
                return fail(f"set {c}:{k}: {r!r}")
        for k in range(KEYS):
            got = m.get_many([f"{c}:{k}"])
            want = ((c * KEYS + k) % 65536, value_of(c, k), None)
            if got.get(f"{c}:{k}") != want:
                return fail(f"get {c}:{k}: wrong or missing value")
        for base in range(0, KEYS, 50):
            keys = [f"{c}:{k}" for k in range(base, min(KEYS, base + 50))]
            got = m.get_many(keys)
            for key in keys:
                k = int(key.split(":")[1])
                if got.get(key) != ((c * KEYS + k) % 65536, value_of(c, k), None):
                    return fail(f"multi-get {key}: wrong or missing value")
        r = m.cmd(f"set ctr{c} 0 0 1", b"5")
        total = 5
        for i in range(100):
            step = i % 7 + 1
            r = m.cmd(f"incr ctr{c} {step}")
            total += step
            if r != str(total).encode():
                return fail(f"incr ctr{c}: {r!r}, want {total}")
        r = m.cmd(f"decr ctr{c} 3")
        if r != str(total - 3).encode():
            return fail(f"decr ctr{c}: {r!r}")
        g = m.get_many([f"{c}:0"], with_cas=True)[f"{c}:0"]
        if m.cmd(f"cas {c}:0 1 0 3 {g[2]}", b"new") != b"STORED":
            return fail("cas with the current unique was not STORED")
        if m.cmd(f"cas {c}:0 1 0 3 {g[2]}", b"old") != b"EXISTS":
            return fail("cas with a stale unique did not answer EXISTS")
        if m.cmd(f"add {c}:1 0 0 1", b"x") != b"NOT_STORED":
            return fail("add of an existing key was stored")
        for k in range(0, KEYS, 10):
            if m.cmd(f"delete {c}:{k}") != b"DELETED":
                return fail(f"delete {c}:{k} failed")
        got = m.get_many([f"{c}:{k}" for k in range(0, KEYS, 10)])
        if got:
            return fail(f"{len(got)} deleted keys still there")
        with lock:
            counts["set"] += KEYS
            counts["get"] += KEYS
            counts["multiget"] += (KEYS + 49) // 50
            counts["other"] += 106 + KEYS // 10
    except Exception as e:  # noqa: BLE001 - any error is a failure to report
        fail(f"connection {c}: {type(e).__name__}: {e}")


ts = [threading.Thread(target=worker, args=(c,)) for c in range(CONNS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if failures:
    for f in failures[:10]:
        print("FAIL:", f)
    sys.exit(1)
print(f"ok: {CONNS} connections, {counts['set']} sets, {counts['get']} gets and "
      f"{counts['multiget']} multi-gets verified, {counts['other']} incr/decr/cas/add/delete exact")
