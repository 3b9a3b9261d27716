"""Free TCP ports on loopback for the servers tests start."""

import os
import socket


def free_port(env: str = "COMPTOIR_TEST_PORTS") -> int:
    """A port nothing listens on: any the system picks, or, when the environment variable
    `env` names a range (`18600-18699`), the first free one in it."""
    low, _, high = os.environ.get(env, "0-0").partition("-")
    for port in range(int(low), int(high) + 1) if int(low) else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            found: int = s.getsockname()[1]
            return found
    raise RuntimeError(f"no free port in {env}")
