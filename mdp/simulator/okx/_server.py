"""The OKX simulator's port: REST under ``/api/v5/``, the public WebSocket at
``/ws/v5/public`` and the control endpoint under ``/_sim/``. As on the Binance port, a TCP
connection is read with h11 until its first request head; an upgrade is handed to
wsproto with the bytes read so far, anything else is answered with keep-alive."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import h11
import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, RejectConnection, RejectData
from wsproto.events import Request as WsRequest
from wsproto.utilities import LocalProtocolError as WsLocalError
from wsproto.utilities import RemoteProtocolError as WsRemoteError

from mdp.simulator.okx._control import control
from mdp.simulator.okx._hub import OkxHub
from mdp.simulator.okx._rest import ENDPOINTS, OkxRestError
from mdp.simulator.okx._ws import OkxConnection

__all__ = ["WS_PATH", "handle_connection"]

WS_PATH = "/ws/v5/public"
_MAX_BODY = 1 << 20
_JSON = (b"content-type", b"application/json")


async def handle_connection(hub: OkxHub, stream: trio.SocketStream) -> None:
    try:
        await _serve_http(hub, stream)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except (h11.ProtocolError, WsLocalError, WsRemoteError):
        hub.stats["protocol_errors"] += 1
    finally:
        await trio.aclose_forcefully(stream)


async def _serve_http(hub: OkxHub, stream: trio.SocketStream) -> None:
    conn = h11.Connection(h11.SERVER)
    raw = bytearray()
    first = True
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            if first:
                raw += data
            conn.receive_data(data)
            if not data:
                return
            continue
        if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return
        if not isinstance(event, h11.Request):
            continue
        if first and any(n == b"upgrade" and v.lower() == b"websocket" for n, v in event.headers):
            await _serve_websocket(hub, stream, bytes(raw))
            return
        first = False
        raw.clear()
        body = bytearray()
        while True:
            part = conn.next_event()
            if part is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(part, h11.Data):
                body += part.data
                if len(body) > _MAX_BODY:
                    return
            else:
                break
        status, payload = _route(hub, event, bytes(body))
        headers = [_JSON, (b"content-length", str(len(payload)).encode())]
        out = conn.send(h11.Response(status_code=status, headers=headers)) or b""
        out += (conn.send(h11.Data(data=payload)) or b"") + (conn.send(h11.EndOfMessage()) or b"")
        await stream.send_all(out)
        if conn.our_state is h11.MUST_CLOSE:
            return
        conn.start_next_cycle()


def _route(hub: OkxHub, request: h11.Request, body: bytes) -> tuple[int, bytes]:
    target = urlsplit(request.target.decode("latin-1"))
    params = dict(parse_qsl(target.query))
    method = request.method.decode("latin-1")
    if target.path.startswith("/_sim/"):
        status, obj = control(hub, method, target.path, params, body)
        return status, orjson.dumps(obj)
    endpoint = ENDPOINTS.get(target.path)
    if endpoint is None or method != "GET":
        return 404, orjson.dumps({"code": "404", "msg": f"Not found: {target.path}", "data": []})
    hub.stats["rest"] += 1
    if not hub.rest_admit(target.path, trio.current_time()):
        hub.stats["rest_429"] += 1
        return 429, orjson.dumps({"code": "50011", "msg": "Too Many Requests", "data": []})
    try:
        data = endpoint(hub, params)
    except OkxRestError as exc:
        return exc.status, orjson.dumps({"code": exc.code, "msg": exc.msg, "data": []})
    return 200, orjson.dumps({"code": "0", "msg": "", "data": data})


async def _reject(stream: trio.SocketStream, ws: WSConnection, status: int, msg: str) -> None:
    body = orjson.dumps({"code": str(status), "msg": msg})
    headers = [_JSON, (b"content-length", str(len(body)).encode())]
    out = ws.send(RejectConnection(status_code=status, headers=headers, has_body=True))
    await stream.send_all(out + ws.send(RejectData(data=body)))


async def _serve_websocket(hub: OkxHub, stream: trio.SocketStream, raw: bytes) -> None:
    ws = WSConnection(ConnectionType.SERVER)
    ws.receive_data(raw)
    request = next((e for e in ws.events() if isinstance(e, WsRequest)), None)
    if request is None:
        return
    if not hub.connect_attempt(trio.current_time()):
        hub.stats["connect_rejected"] += 1
        await _reject(stream, ws, 429, "Too many connection requests (3 per second).")
        return
    if urlsplit(request.target).path != WS_PATH:
        await _reject(stream, ws, 404, f"no WebSocket endpoint at {request.target}")
        return
    await stream.send_all(ws.send(AcceptConnection()))
    await OkxConnection(hub, stream, ws).run()
