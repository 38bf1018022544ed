# SPDX-License-Identifier: Apache-2.0
"""snowlab: the test bench shared by tests/bench/bench and tests/chaos/chaos.

It starts the real binaries the way a user would -- snowpipe-emu with a
throw-away CA, sensord under the fake chips (tests/fakei2c/with-chips),
streamerd pointed at the emulator, sensortap taps -- in one scratch directory,
and knows how to read each one's state from the outside: /proc for footprint,
the emulator's SQLite table and control endpoint, sensortap for records.
Every process it starts is killed when the Lab is closed, whatever happened.
"""

import json
import os
import re
import select
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.environ.get("TOP") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def clk_tck():
    return os.sysconf("SC_CLK_TCK")


def proc_sample(pid):
    """CPU ticks, RSS and context switches of one process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        st = f.read()
    rest = st[st.rindex(")") + 2:].split()
    utime, stime = int(rest[11]), int(rest[12])
    out = {"utime": utime / clk_tck(), "stime": stime / clk_tck()}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.strip()
            if k == "VmRSS":
                out["rss_kib"] = int(v.split()[0])
            elif k == "VmHWM":
                out["hwm_kib"] = int(v.split()[0])
            elif k == "voluntary_ctxt_switches":
                out["vcsw"] = int(v)
            elif k == "nonvoluntary_ctxt_switches":
                out["ivcsw"] = int(v)
    return out


class Proc:
    """One child process with its output in a log file."""

    def __init__(self, name, argv, logpath, env=None, stdout=None):
        self.name, self.argv, self.logpath = name, argv, logpath
        self.logf = open(logpath, "ab")
        self.logf.write(("\n=== %s start %s: %s\n" % (name, time.strftime("%T"), " ".join(argv))).encode())
        self.logf.flush()
        self.p = subprocess.Popen(argv, stdout=stdout if stdout is not None else self.logf,
                                  stderr=self.logf, stdin=subprocess.DEVNULL, env=env,
                                  start_new_session=True)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        """SIGKILL the process (and its session, so wrapper children die too)."""
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, timeout=10):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.logf.close()

    def wait_log(self, pattern, timeout=20):
        """Waits until the log file has a line matching pattern; returns the match."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while time.time() < end:
            with open(self.logpath, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    m = rx.search(line)
                    if m:
                        return m
            if not self.alive():
                raise RuntimeError("%s exited (%s) before printing /%s/; see %s" %
                                   (self.name, self.p.returncode, pattern, self.logpath))
            time.sleep(0.05)
        raise RuntimeError("%s: no /%s/ within %ss; see %s" % (self.name, pattern, timeout, self.logpath))


class Lab:
    def __init__(self, build=None, keep=False, name="snowlab"):
        self.build = os.path.abspath(build or os.environ.get("BUILD") or os.path.join(TOP, "build"))
        self.bin = os.path.join(self.build, "bin")
        self.dir = tempfile.mkdtemp(prefix=name + ".")
        self.keep = keep
        self.procs = []
        if os.environ.get("SAN") == "1":
            # LeakSanitizer needs ptrace at exit, which the daemons' seccomp
            # filters refuse by design (as in the sensord integration tests).
            o = os.environ.get("ASAN_OPTIONS", "")
            os.environ["ASAN_OPTIONS"] = (o + ":" if o else "") + "detect_leaks=0"
        log("scratch directory", self.dir)

    # ------------------------------------------------------------ files
    def path(self, *p):
        return os.path.join(self.dir, *p)

    def write(self, name, text, mode=0o600):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def start(self, name, argv, env=None, stdout=None):
        pr = Proc(name, argv, self.path(name + ".log"), env=env, stdout=stdout)
        self.procs.append(pr)
        return pr

    def close(self):
        for pr in reversed(self.procs):
            pr.kill()
            try:
                pr.logf.close()
            except Exception:
                pass
        if not self.keep:
            subprocess.call(["rm", "-rf", self.dir])
        else:
            log("kept", self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ------------------------------------------------------------------ the pipeline
# The knobs and file formats below follow each component's README on main:
# tests/snowpipe-emu/README.md, tests/fakei2c/README.md, sensord(8) and
# streamerd(8) config keys in config/*.json.

ACCOUNT = "SNOWLAB"
USER = "SENSOR_USER"
DB, SCHEMA, TABLE = "DEMO_DB", "DEMO_SCHEMA", "THERMAL_SENSOR_DATA"
PIPE = "THERMAL_SENSOR_PIPE"
PAT = "snowlab-pat-0123456789abcdef0123456789abcdef"
DEVICE = "chaos-pi"

# The prototype's table (docs/schema.md, "The row"; config/snowflake/setup.sql).
COLUMNS = [
    ("UUID", "VARCHAR(36)"), ("ROWID", "VARCHAR(64)"), ("HOSTNAME", "VARCHAR(255)"),
    ("HOST", "VARCHAR(255)"), ("IPADDRESS", "VARCHAR(64)"), ("MACADDRESS", "VARCHAR(32)"),
    ("TEMPERATURE", "FLOAT"), ("HUMIDITY", "FLOAT"), ("CO2", "FLOAT"),
    ("EQUIVALENTCO2PPM", "FLOAT"), ("TOTALVOCPPB", "FLOAT"), ("PRESSURE", "FLOAT"),
    ("CPUTEMPF", "INTEGER"), ("TEMPERATUREICP", "FLOAT"), ("CPU", "FLOAT"),
    ("MEMORY", "FLOAT"), ("DISKUSAGE", "VARCHAR(255)"), ("RUNTIME", "INTEGER"),
    ("TS", "INTEGER"), ("SYSTEMTIME", "VARCHAR(50)"), ("STARTTIME", "VARCHAR(50)"),
    ("ENDTIME", "VARCHAR(50)"), ("DATETIMESTAMP", "TIMESTAMP_NTZ"), ("TE", "VARCHAR(50)"),
    ("RAW_DATA", "VARIANT"),
]

EMU_COLUMNS = ["%s %s" % c for c in COLUMNS]
# The prototype's named pipe: every column from its key, RAW_DATA = $1.
PIPE_SELECT = ["$1:%s" % n.lower() for n, _ in COLUMNS[:-1]] + ["$1"]


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Tap:
    """A sensortap --from oldest that runs for the whole test, restarted after
    sensord restarts from the seq after the last one it printed; keeps every
    record by seq. Runs in a thread."""

    def __init__(self, lab, sock):
        import threading
        self.lab, self.sock = lab, sock
        self.records = {}
        self.conflicts = []	# same seq seen twice with different contents
        self.gaps = []
        self.restarts = 0
        self._stop = False
        self._proc = None
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def max_seq(self):
        with self._lock:
            return max(self.records) if self.records else 0

    def _run(self):
        errlog = open(self.lab.path("tap.err"), "ab")
        while not self._stop:
            last = self.max_seq()
            frm = "oldest" if last == 0 else str(last + 1)
            try:
                p = subprocess.Popen([os.path.join(self.lab.bin, "sensortap"), "-s", self.sock,
                                      "--from", frm], stdout=subprocess.PIPE, stderr=errlog,
                                     stdin=subprocess.DEVNULL)
            except OSError:
                time.sleep(0.2)
                continue
            self._proc = p
            for line in p.stdout:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                s = r.get("seq")
                if not isinstance(s, int):
                    continue
                with self._lock:
                    old = self.records.get(s)
                    if old is not None and old != r:
                        self.conflicts.append(s)
                    self.records[s] = r
            p.wait()
            self._proc = None
            if not self._stop:
                self.restarts += 1
                time.sleep(0.2)
        errlog.close()

    def stop(self):
        self._stop = True
        p = self._proc
        if p is not None and p.poll() is None:
            p.terminate()
        self._t.join(timeout=10)


class Pipeline:
    """fake chips + sensord + streamerd + snowpipe-emu in one lab directory."""

    def __init__(self, lab, interval_ms=5000, commit_lag_ms=1000, store="rows",
                 compression="zstd", limits=True, fsync="always", flush_ms=None,
                 batch_rows=None, batch_bytes=None, commit_poll_ms=None, chip_control=False, scenario=None,
                 streamerd_extra=None,
                 journal_max_bytes=1 << 30, emu_verbose=False, time_scale=1):
        self.lab = lab
        self.interval_ms, self.commit_lag_ms, self.store = interval_ms, commit_lag_ms, store
        self.compression, self.limits, self.fsync = compression, limits, fsync
        self.flush_ms, self.batch_rows, self.commit_poll_ms = flush_ms, batch_rows, commit_poll_ms
        self.batch_bytes = batch_bytes
        self.streamerd_extra = streamerd_extra or {}
        self.journal_max_bytes = journal_max_bytes
        self.emu_verbose = emu_verbose
        self.time_scale = time_scale
        self.procs = {}
        self.killed = set()
        self.tap = None
        self.state_dir = lab.path("state")
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        # The socket's directory is sensord's user's alone, as sensord
        # demands (as /run/snowsense is): nobody's when we are root.
        run = lab.path("run")
        os.makedirs(run, mode=0o755, exist_ok=True)
        os.chmod(run, 0o755)
        if os.getuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(run, nobody.pw_uid, nobody.pw_gid)
        self.sock = os.path.join(run, "sensord.sock")
        self.db = lab.path("emu.db")
        self.port = free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.control = lab.path("chips.control") if chip_control else None
        self._setup_tls()
        self._write_emu_config()
        self._write_scenario(scenario)
        self._write_sensord_config()
        self._write_streamerd_config()
        self._ssl = ssl.create_default_context(cafile=lab.path("tls.crt"))

    # ------------------------------------------------------------ files
    def _setup_tls(self):
        d = self.lab.dir
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/tls.key",
                "-out", d + "/tls.crt", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
        self.lab.write("streamer.pat", PAT + "\n")

    def _write_emu_config(self):
        lim = {"requests_per_s": 10} if self.limits else {"requests_per_s": 0}
        conf = {
            "account": ACCOUNT, "ingest_host": "127.0.0.1:{port}",
            "commit_lag_ms": self.commit_lag_ms, "limits": lim,
            "users": [{"name": USER, "default_role": "INGEST_ROLE",
                       "pats": [{"name": "P1", "secret_file": "streamer.pat",
                                 "expires_in_s": 2592000, "role": "INGEST_ROLE"}]}],
            "tables": [{"database": DB, "schema": SCHEMA, "name": TABLE, "columns": EMU_COLUMNS}],
            "pipes": [{"database": DB, "schema": SCHEMA, "name": PIPE, "table": TABLE,
                       "columns": [c for c, _ in COLUMNS], "select": PIPE_SELECT}],
        }
        self.lab.write("emu.json", json.dumps(conf, indent=1))

    def _write_scenario(self, scenario):
        sc = scenario or {
            "time_scale": self.time_scale,
            "scd4x": {"co2": 812, "t": 22.5, "rh": 41.0},
            "sgp30": {"eco2": 450, "tvoc": 12},
            "icp10125": {"p": 100734.5, "t": 21.3},
        }
        self.lab.write("scenario.json", json.dumps(sc))
        if self.control:
            self.lab.write("chips.control", "")

    def _write_sensord_config(self):
        import pwd
        conf = {
            "bus": "/dev/i2c-1", "device": DEVICE, "interval_ms": self.interval_ms,
            "socket": self.sock, "socket_mode": "0600",
            "state_dir": self.state_dir,
            "journal": {"max_bytes": self.journal_max_bytes, "max_age_days": 0,
                        "fsync": self.fsync, "segment_bytes": 4 << 20},
            "disk_path": self.lab.dir, "require": "none",
            "metrics_file": self.lab.path("run", "sensord.prom"),
            # the one user that may ack: streamerd runs as we do
            "streamer_user": pwd.getpwuid(os.getuid()).pw_name,
        }
        if os.getuid() == 0:	# sensord refuses to keep root: drop to nobody
            import grp
            conf["user"] = "nobody"
            conf["group"] = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            os.chmod(self.lab.dir, 0o755)
        self.lab.write("sensord.json", json.dumps(conf, indent=1))

    @staticmethod
    def sensord_user():
        """The user sensord runs as: nobody when we are root, else ourselves."""
        import pwd
        return "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name

    def _write_streamerd_config(self):
        conf = {
            "pat": PAT, "user": USER, "account": ACCOUNT, "role": "INGEST_ROLE",
            "database": DB, "schema": SCHEMA, "pipe": PIPE,
            "account_url": self.url, "ca_file": self.lab.path("tls.crt"),
            "socket": self.sock, "compression": self.compression,
            "metrics_file": self.lab.path("streamerd.prom"),
            # who serves the socket: sensord's user (it listens as root,
            # which streamerd accepts as well)
            "sensord_user": self.sensord_user(),
            # this machine's clock may never say synchronised: no hold
            "unsynced_hold_s": 0,
        }
        if self.flush_ms is not None:
            conf["flush_interval_ms"] = self.flush_ms
        if self.batch_rows is not None:
            conf["batch_max_rows"] = self.batch_rows
        if self.batch_bytes is not None:
            conf["batch_max_bytes"] = self.batch_bytes
        if self.commit_poll_ms is not None:
            conf["commit_poll_ms"] = self.commit_poll_ms
        conf.update(self.streamerd_extra)
        self.lab.write("streamerd.json", json.dumps(conf, indent=1))

    # ------------------------------------------------------------ processes
    def start_emu(self):
        argv = [os.path.join(self.lab.bin, "snowpipe-emu"), "--config", self.lab.path("emu.json"),
                "--db", self.db, "--tls-cert", self.lab.path("tls.crt"),
                "--tls-key", self.lab.path("tls.key"), "--listen", "127.0.0.1:%d" % self.port,
                "--commit-lag-ms", str(self.commit_lag_ms), "--store", self.store]
        if not self.limits:
            argv.append("--no-limits")
        if self.emu_verbose:
            argv.append("-v")
        out = self.lab.path("emu.out")
        open(out, "w").close()
        # A restart on the same port can race the old socket's close: retry.
        for attempt in range(50):
            pr = self.lab.start("emu", argv, stdout=open(out, "ab"))
            try:
                self._wait_file(out, "listening on", pr, 10)
                self.procs["emu"] = pr
                return pr
            except RuntimeError:
                pr.kill()
                time.sleep(0.2)
        raise RuntimeError("snowpipe-emu did not start; see %s" % self.lab.path("emu.log"))

    def _wait_file(self, path, needle, pr, timeout):
        end = time.time() + timeout
        while time.time() < end:
            with open(path) as f:
                if needle in f.read():
                    return
            if not pr.alive():
                raise RuntimeError("exited")
            time.sleep(0.05)
        raise RuntimeError("timeout")

    def sensord_argv(self):
        argv = [os.path.join(self.lab.bin, "sensord"), "-d", "-f", self.lab.path("sensord.json")]
        wc = os.environ.get("WITH_CHIPS") or os.path.join(TOP, "tests", "fakei2c", "with-chips")
        pre = [wc, self.lab.path("scenario.json")]
        if self.control:
            pre += ["--control", self.control]
        return pre + ["--"] + argv

    def start_sensord(self):
        pr = self.lab.start("sensord", self.sensord_argv())
        self.procs["sensord"] = pr
        end = time.time() + 20
        while not os.path.exists(self.sock) or not self._sock_answers():
            if not pr.alive():
                raise RuntimeError("sensord exited (%s) at start; see %s" %
                                   (pr.p.returncode, pr.logpath))
            if time.time() > end:
                raise RuntimeError("sensord socket never answered; see %s" % pr.logpath)
            time.sleep(0.05)
        return pr

    def _sock_answers(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def start_streamerd(self):
        # As the systemd unit and scripts/supervise start it (see there).
        env = dict(os.environ, GNUTLS_NO_IMPLICIT_INIT="1")
        pr = self.lab.start("streamerd", [os.path.join(self.lab.bin, "streamerd"), "-d", "-f",
                                          self.lab.path("streamerd.json")], env=env)
        self.procs["streamerd"] = pr
        return pr

    def start_all(self):
        self.start_emu()
        self.start_sensord()
        self.start_streamerd()

    def start_tap(self):
        self.tap = Tap(self.lab, self.sock)

    def restart(self, name):
        {"emu": self.start_emu, "sensord": self.start_sensord,
         "streamerd": self.start_streamerd}[name]()

    def kill(self, name):
        pr = self.procs.get(name)
        if pr:
            pr.kill()

    def stop(self, name):
        pr = self.procs.get(name)
        if pr:
            pr.stop()

    def exited(self, name):
        """The exit status of a daemon that died on its own, else None."""
        pr = self.procs.get(name)
        if pr is None or pr.alive():
            return None
        rc = pr.p.returncode
        if rc == -signal.SIGKILL:	# ours
            return None
        return rc

    def pid(self, name):
        """The daemon's own pid (with-chips may exec or may fork)."""
        pr = self.procs[name]
        kids = children(pr.pid)
        return kids[0] if kids and name == "sensord" and _comm(pr.pid) != "sensord" else pr.pid

    # ------------------------------------------------------------ emulator
    def emu_req(self, method, path, body=None, timeout=5):
        data = json.dumps(body).encode() if body is not None else None
        rq = urllib.request.Request(self.url + path, data=data, method=method,
                                    headers={"Content-Type": "application/json",
                                             "Accept": "application/json"})
        with urllib.request.urlopen(rq, context=self._ssl, timeout=timeout) as r:
            txt = r.read().decode()
        return json.loads(txt) if txt.strip() else None

    def emu_faults(self, rules):
        return self.emu_req("POST", "/_emu/faults", {"faults": rules})

    def emu_fault_storm(self, status, n, retry_after=None):
        rule = {"kind": "status", "status": status, "count": n, "route": "any"}
        if retry_after is not None:
            rule["retry_after"] = retry_after
        self.emu_faults([rule])

    def emu_fault_drop_after_append(self, n):
        self.emu_faults([{"kind": "drop_after_accept", "route": "append", "count": n}])

    def emu_expire_tokens(self):
        self.emu_faults([{"kind": "expire_tokens"}])

    def emu_invalidate_channel(self):
        self.emu_faults([{"kind": "invalidate_channel", "code": "ERR_CHANNEL_MUST_BE_REOPENED"}])

    def emu_stall_commits(self, on):
        self.emu_faults([{"kind": "stall_commits" if on else "resume_commits"}])

    def emu_clear_faults(self):
        self.emu_req("DELETE", "/_emu/faults")

    def emu_stats(self):
        return self.emu_req("GET", "/_emu/stats")

    # ------------------------------------------------------------ chips
    def chip_control(self, obj):
        """Replaces the control file's one JSON object in place: the preload
        library re-reads it when it changes, and under sensord's sandbox it
        can only re-read the inode it already holds (so no rename)."""
        with open(self.control, "r+") as f:
            f.truncate(0)
            f.write(json.dumps(obj) + "\n")

    # ------------------------------------------------------------ the table
    def _db(self):
        c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def table_count(self):
        try:
            with self._db() as c:
                return c.execute("select count(*) from %s" % TABLE).fetchone()[0]
        except sqlite3.Error:
            return -1

    def table_max_contiguous(self):
        """The highest seq s such that every seq 1..s is in the table."""
        try:
            with self._db() as c:
                seqs = [r[0] for r in c.execute(
                    "select distinct cast(substr(ROWID, 18) as integer) as s from %s order by s"
                    % TABLE)]
        except sqlite3.Error:
            return 0
        m = 0
        for s in seqs:
            if s == m + 1:
                m = s
            elif s > m + 1:
                break
        return m

    def table_rows(self):
        with self._db() as c:
            rows = [dict(r) for r in c.execute("select * from %s" % TABLE)]
        for r in rows:
            r["seq"] = int(r["ROWID"][17:])
            r["commit_ns"] = parse_utc_ms(r["COMMITTED_AT"])
            try:
                t_ns = json.loads(r["RAW_DATA"])["t_ns"]
                r["commit_delay_s"] = (r["commit_ns"] - t_ns) / 1e9
            except (ValueError, KeyError, TypeError):
                r["commit_delay_s"] = None
        return rows


def parse_utc_ms(s):
    import calendar
    day, _, tod = s.partition(" ")
    secs = calendar.timegm(time.strptime(day + " " + tod.split(".")[0], "%Y-%m-%d %H:%M:%S"))
    frac = tod.split(".")[1] if "." in tod else "0"
    return secs * 1000000000 + int((frac + "000000000")[:9])


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def row_mismatch(rec, row):
    """What differs between a tapped record and its table row ('' if nothing)."""
    def num(col, have, val):
        v = row.get(col)
        if not have:
            return "" if v is None else "%s=%r, expected NULL" % (col, v)
        if v is None:
            return "%s is NULL, expected %r" % (col, val)
        return "" if _close(float(v), float(val)) else "%s=%r, expected %r" % (col, v, val)

    out = []
    sc, sg, ic, sy = rec.get("scd4x"), rec.get("sgp30"), rec.get("icp10125"), rec.get("sys") or {}
    out.append(num("CO2", sc is not None and sc.get("co2") is not None, sc and sc.get("co2")))
    out.append(num("TEMPERATURE", sc is not None, sc and sc["t"]))
    out.append(num("HUMIDITY", sc is not None, sc and sc["rh"]))
    live = sg is not None and not sg.get("warmup")
    out.append(num("EQUIVALENTCO2PPM", live, sg and sg["eco2"]))
    out.append(num("TOTALVOCPPB", live, sg and sg["tvoc"]))
    out.append(num("PRESSURE", ic is not None, ic and ic["p"]))
    out.append(num("TEMPERATUREICP", ic is not None, ic and ic["t"] * 9 / 5 + 32))
    out.append(num("CPU", sy.get("cpu") is not None, sy.get("cpu")))
    out.append(num("MEMORY", sy.get("mem") is not None, sy.get("mem")))
    if row.get("TS") != rec["t"] // 1000000000:
        out.append("TS=%r, expected %r" % (row.get("TS"), rec["t"] // 1000000000))
    if row.get("HOSTNAME") != rec.get("device"):
        out.append("HOSTNAME=%r, expected %r" % (row.get("HOSTNAME"), rec.get("device")))
    if row.get("RUNTIME") != rec["boot_ns"] // 1000000000:
        out.append("RUNTIME=%r, expected %r" % (row.get("RUNTIME"), rec["boot_ns"] // 1000000000))
    try:
        raw = json.loads(row["RAW_DATA"])
        if raw.get("seq") != rec["seq"] or raw.get("t_ns") != rec["t"]:
            out.append("RAW_DATA seq/t_ns differ")
        if raw.get("faults") != rec.get("faults"):
            out.append("RAW_DATA faults %r, expected %r" % (raw.get("faults"), rec.get("faults")))
    except (ValueError, TypeError):
        out.append("RAW_DATA unreadable")
    return "; ".join(x for x in out if x)
