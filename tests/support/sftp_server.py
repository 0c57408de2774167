"""An SFTP server on 127.0.0.1 for the SSH remote test, from PyPI's asyncssh: no system sshd, no root.

The test venv gets asyncssh from requirements-test.txt, so the test runs the same for any user on
any machine (no apt-get, sudo or brew). DVC's ssh remote (dvc-ssh -> sshfs -> asyncssh) speaks only
SFTP, so that is all this serves: no shell, no exec, no scp. Only public-key auth, for the keys in
AUTHORIZED_KEYS. Paths are the real filesystem with the rights of the user running the tests, as
sshd's internal-sftp would give them.

    python sftp_server.py PORT HOST_KEY AUTHORIZED_KEYS
"""

from __future__ import annotations

import argparse
import asyncio

import asyncssh


async def serve(port: int, host_key: str, authorized_keys: str) -> None:
    server = await asyncssh.listen(
        "127.0.0.1",
        port,
        server_host_keys=[host_key],
        authorized_client_keys=authorized_keys,
        sftp_factory=True,
        allow_scp=False,
        password_auth=False,
        kbdint_auth=False,
    )
    print(f"sftp server listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("host_key", help="the server's private host key (OpenSSH format)")
    parser.add_argument("authorized_keys", help="public keys allowed to log in, one a line")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.host_key, args.authorized_keys))


if __name__ == "__main__":
    main()
