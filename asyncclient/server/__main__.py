"""``python -m asyncclient.server [OPTIONS]``: the ``server`` command without the top-level CLI."""

from asyncclient.server.cli import server

if __name__ == "__main__":
    server(prog_name="asyncclient server")
