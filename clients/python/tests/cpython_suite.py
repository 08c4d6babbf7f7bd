"""CPython's own test of subprocess (Debian's libpython3.11-testsuite,
test/test_subprocess.py), run with rexec.subprocess as `subprocess` and the
children on a rexecd of ours.

    REXECD=/path/to/rexecd /usr/bin/python3 tests/cpython_suite.py [-v] [TEST_ID...]

It starts rexecd on 127.0.0.1:0, points REXEC_SERVER at it, puts
rexec.subprocess in sys.modules["subprocess"] and only then imports the
test module, so that every `subprocess.X` of the suite is ours. The tests
named in cpython_skips.txt (a class or one method per line, each with why
it cannot mean anything for a remote child) are left out; the tests the
suite skips on its own (Windows only, not root...) are listed and not
counted. Everything else counts: it prints "N passed, M failed", the
failures, and exits 1 when fewer than 90 % passed, or when the run was not
whole (a test left unrun, rexecd ended, no child started on it).

TEST_ID (e.g. ProcessTestCase.test_wait) runs only those tests, counted the
same way; -v prints each test. It prints its five slowest tests too; the
whole run takes about 25 s, most of it in the suite's own sleeps and
timeouts (test_check_output_timeout twice at 3 s, test_leaking_fds_on_error
2 s, test_communicate_repeated_call_after_stdout_close 2 s).
"""
import sys

sys.dont_write_bytecode = True

import faulthandler  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402
import unittest  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the package as it is, not installed
sys.path.insert(0, str(HERE))

from rexecd_server import Rexecd  # noqa: E402

SKIP_FILE = HERE / "cpython_skips.txt"
TARGET = 0.90
# A test that hangs fails the run with every thread's stack.
TEST_TIME_LIMIT = 120


def read_skips(path):
    """{test id: reason} from lines "ID  reason" ('#' starts a comment)."""
    skips = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        test_id, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {test_id} has no reason")
        if test_id in skips:
            raise SystemExit(f"{path}:{number}: {test_id} is listed twice")
        skips[test_id] = reason.strip()
    return skips


def tests_of(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_of(item)
        else:
            yield item


def short_id(test):
    """ProcessTestCase.test_wait, for test.test_subprocess.ProcessTestCase.test_wait."""
    return test.id().removeprefix("test.test_subprocess.")


class Result(unittest.TextTestResult):
    server = None  # the Rexecd, which no test may take down

    def startTest(self, test):
        faulthandler.dump_traceback_later(TEST_TIME_LIMIT, exit=True)
        self._began = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        faulthandler.cancel_dump_traceback_later()
        self.durations.append((time.monotonic() - self._began, short_id(test)))
        if self.server.process.poll() is not None:
            print(f"rexecd ended during {short_id(test)}:", *self.server.log, sep="\n")
            self.stop()

    def startTestRun(self):
        super().startTestRun()
        self.durations = []


def main(argv):
    verbose = "-v" in argv
    wanted = [arg for arg in argv if arg != "-v"]
    skips = read_skips(SKIP_FILE)

    server = Result.server = Rexecd()
    os.environ["REXEC_SERVER"] = server.address
    # Every child the suite starts through us: a run that started none ran
    # nothing remotely, whatever it says.
    import rexec.client
    spawns = [0]
    spawn = rexec.client.Client.spawn

    def counted_spawn(self, requests):
        spawns[0] += 1
        return spawn(self, requests)
    rexec.client.Client.spawn = counted_spawn
    try:
        import rexec.subprocess
        sys.modules["subprocess"] = rexec.subprocess
        from test import test_subprocess
        if test_subprocess.subprocess is not rexec.subprocess:
            raise SystemExit("test_subprocess did not take rexec.subprocess as subprocess")

        tests = list(tests_of(unittest.defaultTestLoader.loadTestsFromModule(test_subprocess)))
        known = {short_id(t) for t in tests} | {short_id(t).split(".")[0] for t in tests}
        unknown = sorted(set(skips) - known)
        if unknown:
            raise SystemExit(f"{SKIP_FILE.name} names tests the suite does not have: {unknown}")

        def skipped_by_us(test):
            test_id = short_id(test)
            return test_id in skips or test_id.split(".")[0] in skips

        selected = [t for t in tests if not skipped_by_us(t)]
        left_out = len(tests) - len(selected)
        if wanted:
            selected = [t for t in selected if short_id(t) in wanted
                        or short_id(t).split(".")[0] in wanted]
        runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if verbose else 1,
                                         resultclass=Result)
        result = runner.run(unittest.TestSuite(selected))
    finally:
        server_ended = server.process.poll() is not None
        server.stop()

    # A method counts once, however many of its subtests failed.
    failed = sorted({short_id(getattr(t, "test_case", t))
                     for t, _ in result.failures + result.errors
                     + [(t, None) for t in result.unexpectedSuccesses]})
    self_skipped = sorted((short_id(t), why) for t, why in result.skipped)
    counted = len(selected) - len(self_skipped)
    passed = counted - len(failed)
    print()
    print(f"Left out by {SKIP_FILE.name}: {left_out} tests ({len(skips)} lines).")
    print(f"Skipped by the suite itself (not counted): {len(self_skipped)}")
    for test_id, why in self_skipped:
        print(f"  {test_id}: {why}")
    print("Slowest:", ", ".join(f"{name} {seconds:.1f}s"
                                for seconds, name in sorted(result.durations)[-5:]))
    print("Failed:")
    for test_id in failed:
        print(f"  {test_id}")
    share = passed / counted if counted else 0.0
    print(f"{share:.1%} of the {counted} counted tests passed (target {TARGET:.0%}):")
    print(f"{passed} passed, {len(failed)} failed")
    # A run cut short counts nothing it did not run.
    if result.testsRun != len(selected) or server_ended or spawns[0] == 0:
        print(f"the run is not whole: {result.testsRun} of {len(selected)} tests ran, "
              f"rexecd {'ended' if server_ended else 'ran'} to the end, "
              f"{spawns[0]} children were started on it")
        return 1
    return 0 if share >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
