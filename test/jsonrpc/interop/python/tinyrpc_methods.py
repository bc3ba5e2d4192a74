"""The dispatcher the stock tinyrpc servers here serve: echo, add, fail and math.mul, with
tinyrpc's own registration forms (dispatcher.public and register_instance of @public methods)."""
from tinyrpc.dispatch import RPCDispatcher, public

dispatcher = RPCDispatcher()


@dispatcher.public
def echo(x):
    return x


@dispatcher.public
def add(a, b):
    return a + b


@dispatcher.public
def fail(msg):
    raise Exception(msg)


class Math(object):
    @public
    def mul(self, a, b):
        return a * b


dispatcher.register_instance(Math(), "math.")
