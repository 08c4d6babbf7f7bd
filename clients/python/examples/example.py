# The README's example: a program written for `subprocess`, with its
# children on the rexecd at $REXEC_SERVER.
from rexec import subprocess

print(subprocess.run(["uname", "-s"], capture_output=True, text=True).stdout, end="")
print(subprocess.check_output("echo $((6 * 7))", shell=True, text=True), end="")
try:
    subprocess.run(["sh", "-c", "exit 3"], check=True)
except subprocess.CalledProcessError as e:
    print("exit status", e.returncode)
with subprocess.Popen(["sort"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:
    print(p.communicate("b\na\n")[0], end="")
