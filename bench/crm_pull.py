#!/usr/bin/env python3
"""CRM pull benchmark (issue 9): N parties from a real trytond into the store.

Starts a Tryton server with tests/fixtures/tryton/trytond.sh, creates N parties
(each with an e-mail, a phone and an address) through its JSON-RPC API, then
starts the hub with one pipeline (tryton source -> normalize_phone -> store)
and waits until every party is a profile with its ext:tryton identity.

Prints the time Tryton took to create them, the pull's parties/s, the CPU
seconds of trytond and of the hub, the hub's peak RSS and how many JSON-RPC
requests the pull needed, so that it says where Tryton is the limit.

  bench/crm_pull.py --parties 100000 [--page-size 500] [--build build-test]
"""
import argparse
import base64
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "tryton", "trytond.sh")
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Rpc:
    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/tp/"
        uid, session = self.post("common.db.login", ["admin", {"password": "admin"}], None)
        self.auth = "Session " + base64.b64encode(f"admin:{uid}:{session}".encode()).decode()

    def post(self, method, params, auth):
        req = urllib.request.Request(self.url, json.dumps({"id": 1, "method": method, "params": params}).encode(),
                                     {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})})
        with urllib.request.urlopen(req, timeout=600) as r:
            answer = json.load(r)
        if answer.get("error"):
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def model(self, model, verb, *args):
        return self.post(f"model.{model}.{verb}", [*args, {}], self.auth)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parties", type=int, default=100000)
    ap.add_argument("--page-size", type=int, default=500)
    ap.add_argument("--batch", type=int, default=1000, help="parties per create call")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-test"))
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    o = ap.parse_args()
    hub_bin = os.path.join(o.build, "core", "touchpoint")
    plugin_dir = os.path.join(o.build, "lib", "plugins")
    if not os.path.exists(os.path.join(plugin_dir, "libtp_tryton.so")):
        sys.exit(f"no {plugin_dir}/libtp_tryton.so: build {o.build} first")

    work = tempfile.mkdtemp(prefix="tp_crm_pull.")
    tryton_dir = os.path.join(work, "tryton")
    port = int(subprocess.check_output([FIXTURE, "start", tryton_dir], text=True))
    hub = None
    try:
        with open(os.path.join(tryton_dir, "trytond.pid")) as f:
            tryton_pid = int(f.read())
        rpc = Rpc(port)
        t0 = time.monotonic()
        for start in range(0, o.parties, o.batch):
            rows = []
            for i in range(start, min(start + o.batch, o.parties)):
                rows.append({
                    "name": f"Kunde {i:07d}",
                    "contact_mechanisms": [["create", [{"type": "email", "value": f"kunde{i}@example.de"},
                                                       {"type": "phone", "value": f"+49 30 {1000000 + i}"}]]],
                    "addresses": [["create", [{"street": f"Hauptstr. {i % 200 + 1}", "postal_code": "10115",
                                               "city": "Berlin"}]]],
                })
            rpc.model("party.party", "create", rows)
        create_s = time.monotonic() - t0
        print(f"tryton created {o.parties} parties in {create_s:.1f} s ({o.parties / create_s:,.0f} parties/s)")

        os.makedirs(os.path.join(work, "pipelines"))
        with open(os.path.join(work, "touchpoint.yaml"), "w") as f:
            f.write(f"data_dir: {work}/var\nplugin_dir: {plugin_dir}\npipelines_dir: {work}/pipelines\n")
        crm = (f'{{ url: "http://127.0.0.1:{port}", database: tp, user: admin, password: admin, '
               f'page_size: {o.page_size} }}')
        with open(os.path.join(work, "pipelines", "crm.yaml"), "w") as f:
            f.write("name: crm\nsource:\n  plugin: tryton\n  poll_interval_ms: 200\n  config: " + crm + "\n"
                    "transforms:\n  - normalize_phone: { field: phone, default_region: DE, on_invalid: remove }\n"
                    "store: true\n")
        tryton_cpu0 = cpu_seconds(tryton_pid)
        t0 = time.monotonic()
        hub = subprocess.Popen([hub_bin, "run", "--config", os.path.join(work, "touchpoint.yaml")],
                               stdout=open(os.path.join(work, "hub.log"), "w"), stderr=subprocess.STDOUT)
        want = o.parties + 1  # and the fixture's company party
        store = os.path.join(work, "var", "touchpoint.db")
        n, first_s = 0, None
        while n < want:
            time.sleep(0.2)
            if hub.poll() is not None:
                sys.exit(f"the hub exited ({hub.returncode}); see {work}/hub.log")
            if not os.path.exists(store):
                continue
            try:
                db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
                n = db.execute("SELECT COUNT(*) FROM identities WHERE kind='ext:tryton'").fetchone()[0]
                db.close()
            except sqlite3.Error:
                continue
            if n and first_s is None:
                first_s = time.monotonic() - t0
        pull_s = time.monotonic() - t0
        hub_cpu, rss = cpu_seconds(hub.pid), peak_rss_mib(hub.pid)
        tryton_cpu = cpu_seconds(tryton_pid) - tryton_cpu0
        pages = -(-want // o.page_size)
        print(f"pulled {want} parties into the store in {pull_s:.1f} s: {want / pull_s:,.0f} parties/s "
              f"(first profile after {first_s:.1f} s)")
        print(f"trytond CPU {tryton_cpu:.1f} s ({tryton_cpu / pull_s * 100:.0f} % of one core), "
              f"hub CPU {hub_cpu:.1f} s ({hub_cpu * 1e6 / want:.0f} us/party), hub peak RSS {rss:.0f} MiB")
        print(f"JSON-RPC: {pages} pages of {o.page_size}, 3 requests each (search_read, contact mechanisms, "
              f"addresses): {3 * pages} requests, {pull_s / (3 * pages) * 1000:.0f} ms per request")
    finally:
        if hub is not None and hub.poll() is None:
            hub.terminate()
            hub.wait(timeout=60)
        subprocess.run([FIXTURE, "stop", tryton_dir])
        if o.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
