"""What every stock-tinyrpc client script here shares: assertions, the cases every transport
runs against the example methods, and the `PASS name` / `FAIL name: why` report."""
import sys

from tinyrpc.exc import RPCError


def expect_error(call, message):
    try:
        result = call()
    except RPCError as e:
        if str(e) != message:
            raise AssertionError("error text %r, expected %r" % (str(e), message))
        return
    raise AssertionError("no error; got %r" % (result,))


def check(got, want):
    if got != want or type(got) is not type(want):
        raise AssertionError("got %r, expected %r" % (got, want))


def common_cases(client):
    """(name, case) pairs for the example methods through tinyrpc's RPCClient and proxies."""
    proxy = client.get_proxy()
    math = client.get_proxy(prefix="math.")
    one_way = client.get_proxy(one_way=True)

    def one_way_then_call():
        before = proxy.notify_count()
        check(one_way.bump(), None)
        check(client.call("bump", [], {}, one_way=True), None)
        # Both notifications were answered with an empty transport reply, or we would hang here.
        check(proxy.echo("after"), "after")
        check(proxy.notify_count(), before + 2)

    return [
        ("echo", lambda: check(proxy.echo("héllo € 😀"), "héllo € 😀")),
        ("echo_structured", lambda: check(proxy.echo({"a": [1, 2.5, None, True], "b": {}}), {"a": [1, 2.5, None, True], "b": {}})),
        ("echo_lone_surrogate", lambda: check(proxy.echo("x\ud800y"), "x\ud800y")),
        ("add_positional", lambda: (check(proxy.add(2, 3), 5), check(proxy.add("ab", "cd"), "abcd"))),
        ("add_named", lambda: (check(proxy.add(a=2, b=3), 5), check(proxy.add(b="cd", a="ab"), "abcd"))),
        ("sub_dispatcher", lambda: check(math.mul(6, 7), 42)),
        ("application_error", lambda: expect_error(lambda: proxy.fail("boom"), "Error calling remote procedure: boom")),
        ("method_not_found", lambda: expect_error(lambda: proxy.no_such_method(), "Error calling remote procedure: Method not found")),
        ("invalid_params", lambda: expect_error(lambda: proxy.add(1), "Error calling remote procedure: Invalid params")),
        ("one_way_then_call", one_way_then_call),
    ]


def run_cases(prefix, cases, results):
    """Runs each case, appending (ok, name, why) to results."""
    for name, case in cases:
        full = prefix + name
        try:
            case()
            results.append((True, full, ""))
        except Exception as e:
            results.append((False, full, "%s: %s" % (type(e).__name__, e)))


def report(results):
    """Prints one line per case and the summary; returns the exit code (1 if any failed)."""
    failed = 0
    for ok, name, why in results:
        if ok:
            print("PASS %s" % name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, why))
    print("%d passed, %d failed" % (len(results) - failed, failed))
    sys.stdout.flush()
    return 1 if failed else 0
