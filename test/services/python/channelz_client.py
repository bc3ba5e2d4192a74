#!/usr/bin/python3
"""grpc.channelz.v1 client on python3-grpcio (C-core) for test/services/channelz-python.test.ts.

  channelz_client.py --port P --server-id ID --target T

Asks our server's Channelz service with grpc.unary_unary on the raw method paths and prints one
JSON object: the servers listed (id, call counts, listen ports), the connections of server ID
(local and remote IP/port, stream and message counts), the top channels whose target is T
(state, call counts, subchannel -> socket ports), and the status of GetServer for an unknown id.
"""

import argparse
import ipaddress
import json
import os
import sys

import grpc

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from channelz_pb import channelz_pb2 as pb, method  # noqa: E402


def address(a):
    kind = a.WhichOneof("address")
    if kind == "tcpip_address":
        return {"ip": str(ipaddress.ip_address(a.tcpip_address.ip_address)), "port": a.tcpip_address.port}
    if kind == "uds_address":
        return {"uds": a.uds_address.filename}
    return None


def socket_json(s):
    d = s.data
    return {
        "id": s.ref.socket_id,
        "local": address(s.local),
        "remote": address(s.remote),
        "streams_started": d.streams_started,
        "streams_succeeded": d.streams_succeeded,
        "streams_failed": d.streams_failed,
        "messages_sent": d.messages_sent,
        "messages_received": d.messages_received,
        "has_last_remote_stream": d.HasField("last_remote_stream_created_timestamp"),
        "has_last_local_stream": d.HasField("last_local_stream_created_timestamp"),
        "tls": s.HasField("security"),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-id", type=int, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    with grpc.insecure_channel("%s:%d" % (args.host, args.port)) as channel:

        def rpc(name, request_class, response_class, **fields):
            stub = channel.unary_unary(method(name), request_serializer=request_class.SerializeToString, response_deserializer=response_class.FromString)
            return stub(request_class(**fields), timeout=args.timeout)

        out = {}
        servers = rpc("GetServers", pb.GetServersRequest, pb.GetServersResponse)
        out["servers_end"] = servers.end
        out["servers"] = []
        for s in servers.server:
            listen = []
            for ref in s.listen_socket:
                sock = rpc("GetSocket", pb.GetSocketRequest, pb.GetSocketResponse, socket_id=ref.socket_id).socket
                listen.append(address(sock.local))
            out["servers"].append({
                "id": s.ref.server_id,
                "calls_started": s.data.calls_started,
                "calls_succeeded": s.data.calls_succeeded,
                "calls_failed": s.data.calls_failed,
                "has_last_call_started": s.data.HasField("last_call_started_timestamp"),
                "listen": listen,
            })

        refs = rpc("GetServerSockets", pb.GetServerSocketsRequest, pb.GetServerSocketsResponse, server_id=args.server_id)
        out["server_sockets_end"] = refs.end
        out["server_sockets"] = [
            socket_json(rpc("GetSocket", pb.GetSocketRequest, pb.GetSocketResponse, socket_id=r.socket_id).socket) for r in refs.socket_ref
        ]

        top = rpc("GetTopChannels", pb.GetTopChannelsRequest, pb.GetTopChannelsResponse)
        out["channels"] = []
        for c in top.channel:
            if c.data.target != args.target:
                continue
            subs = []
            for ref in c.subchannel_ref:
                sub = rpc("GetSubchannel", pb.GetSubchannelRequest, pb.GetSubchannelResponse, subchannel_id=ref.subchannel_id).subchannel
                subs.append({
                    "id": sub.ref.subchannel_id,
                    "state": pb.ChannelConnectivityState.State.Name(sub.data.state.state),
                    "calls_started": sub.data.calls_started,
                    "sockets": [
                        socket_json(rpc("GetSocket", pb.GetSocketRequest, pb.GetSocketResponse, socket_id=r.socket_id).socket) for r in sub.socket_ref
                    ],
                })
            out["channels"].append({
                "id": c.ref.channel_id,
                "target": c.data.target,
                "state": pb.ChannelConnectivityState.State.Name(c.data.state.state),
                "calls_started": c.data.calls_started,
                "calls_succeeded": c.data.calls_succeeded,
                "calls_failed": c.data.calls_failed,
                "subchannels": subs,
            })

        try:
            rpc("GetServer", pb.GetServerRequest, pb.GetServerResponse, server_id=1 << 40)
            out["unknown_server"] = "OK"
        except grpc.RpcError as err:
            out["unknown_server"] = err.code().name

        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
