"""With several worker processes, /metrics counts every worker's requests, whichever worker
answers the scrape."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.pooling.processes import wait_ready
from tests.support.ports import free_port

TOKEN = "scraper-token-for-workers"
REQUESTS = 40


def healthz_count(text: str) -> float:
    match = re.search(
        r'comptoir_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)', text
    )
    return float(match.group(1)) if match else 0.0


def test_metrics_add_up_every_worker(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "DATABASE_URL": database_url,
        "COMPTOIR_DATA_DIR": str(tmp_path),
        "COMPTOIR_METRICS_TOKEN": TOKEN,
        "COMPTOIR_RATE_LIMITS": "off",
        "COMPTOIR_POOL_MIN": "1",
        "COMPTOIR_POOL_MAX": "2",
    }
    command = [sys.executable, "-m", "comptoir", "serve", "--no-migrate", "--workers", "2"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        wait_ready(process, base)
        ids = set()
        with httpx.Client(base_url=base, timeout=10) as client:
            start = healthz_count(client.get("/metrics", headers=headers).text)
            for _ in range(REQUESTS):
                # A new connection each time, so that both workers get some.
                ids.add(httpx.get(f"{base}/healthz").headers.get("x-request-id"))
            scrapes = {
                healthz_count(httpx.get(f"{base}/metrics", headers=headers).text) for _ in range(6)
            }
            # The pools are sampled every second: until both workers' are in the sum (a bound
            # against a hang, not a timing).
            for _ in range(100):
                pools = pool_bound(client.get("/metrics", headers=headers).text)
                if pools == 4.0:
                    break
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    # Every scrape, whichever worker answered it, saw all the requests.
    assert scrapes == {start + REQUESTS}, (start, scrapes)
    assert len(ids) == REQUESTS
    # Both workers' pools are in the sum: 2 workers x COMPTOIR_POOL_MAX 2.
    assert pools == 4.0


def pool_bound(text: str) -> float:
    match = re.search(r"^comptoir_db_pool_max_connections (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0
