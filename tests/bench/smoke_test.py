"""rexec_bench still measures what its rows say: a short run of the
round-trip and rate groups has the floor (gRPC's own cost, from its second
server), rexec's own cost on the round trip, and the CPU per spawn of
rexecd itself, of the floor service (at full speed and at rexecd's pace)
and of a local spawn, each a real figure."""
import json
import re
import subprocess
import sys
import tempfile


def main():
    bench = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = tmp + "/bench.json"
        run = subprocess.run(
            [bench, "--only", "round-trip", "--only", "rate", "--samples", "20",
             "--reps", "1", "--json", out],
            capture_output=True, text=True, timeout=240)
        assert run.returncode == 0, run.stderr
        rows = {row["row"]: row for row in json.load(open(out))}
    floor = rows["floor: bare gRPC call of the Spawn shape"]
    assert floor["rexec_p50"] > 0, floor
    trip = rows["spawn /bin/true round trip"]
    own = trip["rexec_p50"] - trip["local_p50"] - floor["rexec_p50"]
    assert abs(trip["own"] - own) < 1e-9, trip
    assert trip["own_target_floors"] == 1, trip
    cpu = rows["server CPU per spawn, over the rate rows"]
    # rexecd's own CPU (not its namespace keeper's, which is idle) and the
    # floor service's.
    assert cpu["rexec_p50"] > 0 and cpu["local_p50"] > 0, cpu
    # rexecd's CPU less the floor's and the spawning process's share of a
    # local spawn, which this run measured too.
    against = rows["server CPU per spawn, against local spawning"]
    assert against["local_p50"] > 0, against
    own_cpu = against["rexec_p50"] - against["local_p50"] - cpu["local_p50"]
    assert abs(against["own"] - own_cpu) < 1e-9, against
    assert abs(against["own_floors"] - own_cpu / cpu["local_p50"]) < 1e-9
    assert "own_target_floors" not in against, against
    # The floor again, called at rexecd's pace: the mean of the three rate
    # rows (each ran as long), and the calls made at that rate, not faster.
    paced = rows["server CPU per spawn, floor at rexec's rate"]
    assert paced["local_p50"] > 0, paced
    asked, got = map(int, re.search(
        r"paced at (\d+) calls/s \(rexec's mean\): (\d+) calls/s",
        paced["local"]).groups())
    mean = sum(rows[f"spawn /bin/true rate, {n} in flight"]["rexec_p50"]
               for n in (1, 8, 64)) / 3
    assert 0.9 * mean <= asked <= 1.1 * mean, (asked, mean)
    assert 0.8 * asked <= got <= 1.02 * asked, (asked, got)
    assert "own (floors)" in run.stdout, run.stdout
    print("ok:", json.dumps({k: rows[k]["rexec_p50"] for k in rows}))


if __name__ == "__main__":
    main()
