"""One port per market (like Binance's separate spot and futures hosts), each serving
REST, WebSocket and the control endpoint: a TCP connection is read with h11 until its
first request head; a WebSocket upgrade is handed to wsproto (with the bytes read so far),
anything else is answered as HTTP/1.1 with keep-alive."""

from __future__ import annotations

import math
import time
from urllib.parse import parse_qsl, urlsplit

import h11
import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, RejectData
from wsproto.events import Request as WsRequest
from wsproto.utilities import LocalProtocolError as WsLocalError
from wsproto.utilities import RemoteProtocolError as WsRemoteError

from mdp.simulator._control import control
from mdp.simulator._hub import Hub
from mdp.simulator._instruments import Market
from mdp.simulator._rest import ENDPOINTS, RestError
from mdp.simulator._streams import parse_target
from mdp.simulator._ws import WsConnection

__all__ = ["handle_connection"]

_MAX_HEAD = 65536
_MAX_BODY = 1 << 20  # control requests are small; nothing is buffered without bound
_JSON = (b"content-type", b"application/json;charset=UTF-8")


def _is_upgrade(request: h11.Request) -> bool:
    for name, value in request.headers:
        if name == b"upgrade" and value.lower() == b"websocket":
            return True
    return False


async def handle_connection(hub: Hub, market: Market, stream: trio.SocketStream) -> None:
    """Serve one accepted TCP connection until either side closes it."""
    try:
        await _serve_http(hub, market, stream)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except (h11.ProtocolError, WsLocalError, WsRemoteError):
        hub.stats["protocol_errors"] += 1  # a broken client, never a reason to stop serving
    finally:
        await trio.aclose_forcefully(stream)


async def _serve_http(hub: Hub, market: Market, stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    raw = bytearray()
    first = True
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            if first and len(raw) < _MAX_HEAD:
                raw += data
            conn.receive_data(data)
            if not data:
                return
            continue
        if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return
        if not isinstance(event, h11.Request):
            continue
        if first and _is_upgrade(event):
            await _serve_websocket(hub, market, stream, bytes(raw))
            return
        first = False
        body = bytearray()
        while True:
            part = conn.next_event()
            if part is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(part, h11.Data):
                body += part.data
                if len(body) > _MAX_BODY:
                    await _respond(stream, conn, 413, [], b'{"error":"body too large"}')
                    with trio.move_on_after(0.5):  # lingering close: no RST over the reply
                        await stream.send_eof()
                        while await stream.receive_some(65536):
                            pass
                    return
            else:
                break
        status, headers, payload = _route(hub, market, event, bytes(body))
        await _respond(stream, conn, status, headers, payload)
        if conn.our_state is h11.MUST_CLOSE:
            return
        conn.start_next_cycle()


async def _respond(
    stream: trio.SocketStream,
    conn: h11.Connection,
    status: int,
    headers: list[tuple[bytes, bytes]],
    payload: bytes,
) -> None:
    headers = [*headers, _JSON, (b"content-length", str(len(payload)).encode())]
    out = conn.send(h11.Response(status_code=status, headers=headers))
    assert out is not None
    data = conn.send(h11.Data(data=payload))
    end = conn.send(h11.EndOfMessage())
    await stream.send_all(out + (data or b"") + (end or b""))


def _route(
    hub: Hub, market: Market, request: h11.Request, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    target = urlsplit(request.target.decode("latin-1"))
    params = dict(parse_qsl(target.query))
    method = request.method.decode("latin-1")
    path = target.path
    if path.startswith("/_sim/"):
        status, obj = control(hub, method, path, params, body, market)
        return status, [], orjson.dumps(obj)
    endpoint = ENDPOINTS.get(path)
    if endpoint is None or endpoint.market is not market:
        return 404, [], orjson.dumps({"code": -1000, "msg": f"Not found: {path}"})
    if method != "GET":
        return 405, [], orjson.dumps({"code": -1000, "msg": f"{method} not allowed"})
    hub.stats[f"rest_{market.value}"] += 1
    limiter = hub.limiters[market]
    verdict = limiter.admit(endpoint.weight(params), trio.current_time())
    headers = [
        (b"x-mbx-used-weight", str(verdict.used).encode()),
        (b"x-mbx-used-weight-1m", str(verdict.used).encode()),
    ]
    if verdict.status is not None:
        hub.stats[f"rest_{verdict.status}"] += 1
        headers.append((b"retry-after", str(verdict.retry_after).encode()))
        if verdict.status == 418:
            until = int(time.time() * 1000) + verdict.retry_after * 1000
            msg = (
                f"Way too much request weight used; IP banned until {until}. "
                "Please use WebSocket Streams for live updates to avoid bans."
            )
        else:
            msg = (
                f"Too many requests; current limit of IP is {limiter.limit} request weight "
                "per minute. Please use WebSocket Streams for live updates to avoid bans."
            )
        return verdict.status, headers, orjson.dumps({"code": -1003, "msg": msg})
    try:
        obj = endpoint.handle(hub, params)
    except RestError as exc:
        return exc.status, headers, orjson.dumps({"code": exc.code, "msg": exc.msg})
    except Exception as exc:  # a simulator bug: answer 500 and keep serving the others
        hub.stats["rest_500"] += 1
        return 500, headers, orjson.dumps({"code": -1000, "msg": f"simulator error: {exc!r}"})
    return 200, headers, orjson.dumps(obj)


async def _reject(
    stream: trio.SocketStream,
    ws: WSConnection,
    status: int,
    msg: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps({"code": -1000, "msg": msg})
    headers = [_JSON, (b"content-length", str(len(body)).encode()), *(extra or [])]
    out = ws.send(RejectConnection(status_code=status, headers=headers, has_body=True))
    out += ws.send(RejectData(data=body))
    await stream.send_all(out)


async def _serve_websocket(hub: Hub, market: Market, stream: trio.SocketStream, raw: bytes) -> None:
    ws = WSConnection(ConnectionType.SERVER)
    ws.receive_data(raw)
    request = next((e for e in ws.events() if isinstance(e, WsRequest)), None)
    if request is None:
        return
    wait = hub.connect_attempt(market, trio.current_time())
    if wait:
        hub.stats["connect_rejected"] += 1
        await _reject(
            stream,
            ws,
            429,
            "Too many connection attempts.",
            [(b"retry-after", b"%d" % math.ceil(wait))],
        )
        return
    target = parse_target(market, request.target)
    if target is None:
        await _reject(stream, ws, 404, f"no WebSocket endpoint at {request.target}")
        return
    unknown = [s for s in target.streams if s not in hub.known[market]]
    if unknown:
        await _reject(stream, ws, 400, f"Invalid request: unknown stream `{unknown[0]}`")
        return
    if len(target.streams) > hub.config.max_streams:
        await _reject(stream, ws, 400, "Invalid request: too many streams")
        return
    await stream.send_all(ws.send(AcceptConnection()))
    connection = WsConnection(
        hub, market, stream, ws, target.route, target.streams, target.combined, target.microseconds
    )
    await connection.run()
