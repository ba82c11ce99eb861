"""The control socket of a running role: server, client and wire format.

See ARCHITECTURE.md ("Supervision"): a Unix socket (mode 0600) in the role's runtime
directory answering ``tree``, ``channels``, ``stats``, ``restart PATH``, ``kill PATH`` and
``stop`` as JSON lines. ``mdp ctl`` is its command-line client.
"""

from mdp.control._client import ControlClient
from mdp.control._protocol import COMMANDS, MAX_LINE, socket_path
from mdp.control._server import ControlServer

__all__ = ["COMMANDS", "MAX_LINE", "ControlClient", "ControlServer", "socket_path"]
