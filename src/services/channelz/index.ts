export { addChannelzService, ChannelzService } from "./service.js";
export { enableChannelz } from "./server.js";
export { Channelz, ChannelConnectivityState_State } from "../../gen/grpc/channelz/v1/channelz_pb.js";
