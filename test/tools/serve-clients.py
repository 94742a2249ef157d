#!/usr/bin/python3
"""serve-clients URL CLIENTS RUNS ACKED [--token FILE] [--batch N]

Load for promrun-serve's fault tests, with python3-requests as the
client: CLIENTS threads each post RUNS runs (workflow "load", run ids
"cC-rI", N runs per request), retrying a request with the same body
until it is answered 2xx, whatever happens between (refused connections,
resets, timeouts, 5xx) -- what a client of the receiver is told to do.
The run ids of every 2xx answer go to ACKED, one per line.  A scraper
thread reads GET /metrics meanwhile and counts every decrease of
ci_workflow_runs_total{workflow="load",status="success"}.

Prints "acked A runs, B retries, S scrapes, D decreases, last V" and
exits 0; 1 on a 4xx answer or when a run is not acknowledged within
180 s."""
import re
import sys
import threading
import time

import requests

SERIES = re.compile(r'^ci_workflow_runs_total\{workflow="load",status="success"[^}]*\} (\S+)$',
                    re.M)


def main():
    url, clients, runs, acked_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    args = sys.argv[5:]
    token = None
    batch = 1
    while args:
        if args[0] == "--token":
            token = open(args[1]).read().strip()
        elif args[0] == "--batch":
            batch = int(args[1])
        args = args[2:]
    headers = {"Authorization": "Bearer " + token} if token else {}
    deadline = time.monotonic() + 180
    lock = threading.Lock()
    acked, failures = [], []
    counts = {"retries": 0, "scrapes": 0, "decreases": 0, "last": 0.0}
    done = threading.Event()

    def client(c):
        session = requests.Session()
        for first in range(0, runs, batch):
            ids = ["c%d-r%d" % (c, i) for i in range(first, min(first + batch, runs))]
            body = [{"workflow": "load", "status": "success", "run_id": i} for i in ids]
            while True:
                if time.monotonic() > deadline:
                    failures.append("run %s not acknowledged in time" % ids[0])
                    return
                try:
                    r = session.post(url + "/api/v1/runs", json=body, headers=headers, timeout=5)
                except requests.RequestException:
                    r = None
                if r is not None and 200 <= r.status_code < 300:
                    with lock:
                        acked.extend(ids)
                    break
                if r is not None and 400 <= r.status_code < 500:
                    failures.append("%d %s" % (r.status_code, r.text.strip()))
                    return
                with lock:
                    counts["retries"] += 1
                session = requests.Session()
                time.sleep(0.05)

    def scraper():
        best = 0.0
        last = False
        while not last:
            # One more scrape once the clients are done: the final count.
            last = done.is_set()
            try:
                text = requests.get(url + "/metrics", timeout=2).text
                m = SERIES.search(text)
                value = float(m.group(1)) if m else 0.0
                with lock:
                    counts["scrapes"] += 1
                    if value < best:
                        counts["decreases"] += 1
                    best = max(best, value)
                    counts["last"] = value
            except requests.RequestException:
                pass
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    watch = threading.Thread(target=scraper)
    watch.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watch.join()
    with open(acked_path, "w") as f:
        f.write("".join(i + "\n" for i in sorted(acked)))
    print("acked %d runs, %d retries, %d scrapes, %d decreases, last %g" % (
        len(acked), counts["retries"], counts["scrapes"], counts["decreases"], counts["last"]))
    if failures:
        print("\n".join(failures[:5]), file=sys.stderr)
        sys.exit(1)


main()
