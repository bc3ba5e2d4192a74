// Type-level test for channelFor (checked by `npm run typecheck`, never run): in
// `channelFor([[Service, impl], ...])` every impl is typed by the service beside it, so
// handler parameters are contextually typed (under `strict`, an implicit `any` would fail
// this file) and a wrong field or method name is a compile error.
import { channelFor, Server, type Channel, type ServiceImpl } from "../../src/index.js";
import { Greeter } from "../../examples/gen/helloworld/helloworld_pb.js";
import { TestService } from "../../examples/gen/grpc/testing/test_pb.js";

export function typedEntries(): Channel[] {
  const channels: Channel[] = [];
  // The request parameter is the service's HelloRequest: `name` is a string.
  channels.push(channelFor([[Greeter, { sayHello: (req) => ({ message: req.name.toUpperCase() }) }]]));
  channels.push(
    channelFor([
      [Greeter, { sayHello: (req, ctx) => ({ message: `${req.name} via ${ctx.peer}` }) }],
      [
        TestService,
        {
          unaryCall: (req) => ({ payload: { body: req.payload?.body ?? new Uint8Array() } }),
          async *streamingOutputCall(req) {
            for (const p of req.responseParameters) yield { payload: { body: new Uint8Array(p.size) } };
          },
        },
      ],
    ]),
  );
  channels.push(
    channelFor([
      [
        Greeter,
        {
          sayHello: (req) => {
            // @ts-expect-error the request's `name` is a string, not a number
            const n: number = req.name;
            return { message: String(n) };
          },
        },
      ],
    ]),
  );
  // @ts-expect-error HelloReply has no field `mesage`
  channels.push(channelFor([[Greeter, { sayHello: (req) => ({ mesage: req.name }) }]]));
  // @ts-expect-error Greeter has no method `sayHelo`
  channels.push(channelFor([[Greeter, { sayHelo: () => ({ message: "x" }) }]]));
  // @ts-expect-error a TestService method in the Greeter entry
  channels.push(channelFor([[Greeter, { unaryCall: () => ({}) }]]));
  // An impl declared elsewhere, a Server, and no services at all are accepted as before.
  const impl: ServiceImpl<typeof Greeter> = { sayHello: (req) => ({ message: req.name }) };
  channels.push(channelFor([[Greeter, impl]]), channelFor(new Server()), channelFor([]));
  return channels;
}
