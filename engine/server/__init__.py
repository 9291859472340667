"""``relsim serve``: the built-in simulator behind an OpenAI-compatible HTTP API."""

from engine.server.app import ServerConfig, SimServer, build_asgi, create_app
from engine.server.faults import ServerFaults

__all__ = ["ServerConfig", "ServerFaults", "SimServer", "build_asgi", "create_app"]
