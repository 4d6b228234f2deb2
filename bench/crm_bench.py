"""The crm scheduler against Pacemaker's: `lifeboat crm simulate --xml-file F` beside Debian's
`crm_simulate -S -x F` (Pacemaker 2.1.5) on the same CIBs, in one run: wall time and peak
resident memory of each (median of REPEAT runs), their ratios, and whether both printed the
same Transition Summary.

Inputs: the seed's OpenStack control plane (tests/e2e/crm/control-plane.xml) and CIBs generated
here, from 3 nodes x 50 resources to 16 nodes x 1,000 (groups of three, anonymous clones,
promotable clones, location, colocation and order constraints, fencing on). Each generated
cluster is first settled by crm_simulate itself (`-S -O`, so the operation history and its
digests are Pacemaker's own), then one node is failed (`--node-fail`): the measured input is
the failed cluster, which needs fencing and recovery of every resource that ran there.

Knobs: SIZES (e.g. "3x50,16x1000"), REPEAT (default 3), LIFEBOAT_BIN, KEEP=1 (keep the CIBs).
Standard library only."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import loadavg, log  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [tuple(int(x) for x in s.split("x"))
         for s in os.environ.get("SIZES", "3x50,5x200,8x500,16x1000").split(",")]
REPEAT = int(os.environ.get("REPEAT", "3"))


def cib(nodes, resources):
    """A CIB of `nodes` nodes and about `resources` primitives, configuration only."""
    out = ['<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" '
           'num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">', "<configuration>",
           '<crm_config><cluster_property_set id="opts">'
           '<nvpair id="opts-stonith" name="stonith-enabled" value="true"/>'
           '</cluster_property_set></crm_config>', "<nodes>"]
    out += ['<node id="%d" uname="n%d"/>' % (i, i) for i in range(1, nodes + 1)]
    out += ["</nodes>", "<resources>"]

    def prim(rid, kind="Dummy", provider="pacemaker"):
        return ('<primitive id="%s" class="ocf" provider="%s" type="%s"><operations>'
                '<op id="%s-mon" name="monitor" interval="10s"/></operations></primitive>'
                % (rid, provider, kind, rid))

    out.append('<primitive id="fence" class="stonith" type="fence_dummy"/>')
    count, i, constraints = 1, 0, []
    while count < resources:
        kind = i % 4
        if kind == 0:  # a group of three
            out.append('<group id="g%d">%s</group>' % (
                i, "".join(prim("g%d-r%d" % (i, j)) for j in range(3))))
            count += 3
            if i >= 4:
                constraints.append('<rsc_order id="o%d" first="g%d" then="g%d" kind="Optional"/>'
                                   % (i, i - 4, i))
        elif kind == 1:  # an anonymous clone, one per node
            out.append('<clone id="c%d">%s</clone>' % (i, prim("c%d-r" % i)))
            count += 1
        elif kind == 2:  # a promotable clone
            out.append('<clone id="p%d"><meta_attributes id="p%d-meta"><nvpair id="p%d-prom" '
                       'name="promotable" value="true"/></meta_attributes>%s</clone>'
                       % (i, i, i, prim("p%d-r" % i, "Stateful")))
            count += 1
        else:  # a primitive placed by score, kept with a group
            out.append(prim("r%d" % i))
            count += 1
            constraints.append('<rsc_location id="l%d" rsc="r%d" node="n%d" score="%d"/>'
                               % (i, i, 1 + i % nodes, 50 + i % 100))
            constraints.append('<rsc_colocation id="col%d" rsc="r%d" with-rsc="g%d" '
                               'score="100"/>' % (i, i, i - 3))
        i += 1
    out += ["</resources>", "<constraints>"] + constraints + ["</constraints>",
                                                              "</configuration>",
                                                              "<status/>", "</cib>"]
    return "\n".join(out)


def measure(argv):
    """(seconds, peak RSS in KiB, stdout) of one run. GNU time reads the peak: a child forked
    from this Python would count the interpreter's memory too."""
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + argv,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, LC_ALL="C", TZ="UTC"))
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit("%s exited %d" % (argv[0], proc.returncode))
        return seconds, int(rss.read().split()[-1]), proc.stdout.decode()


def summary(text):
    """The Transition Summary's lines, white space squashed, sorted."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("Transition Summary:"):
            inside = True
            continue
        if inside and line and not line.startswith(" "):
            break
        if inside and line.strip().startswith("* "):
            lines.append(re.sub(r"\s+", " ", line.strip()))
    return sorted(lines)


def compare(name, path, lifeboat):
    ours = [measure([lifeboat, "crm", "simulate", "--xml-file", path]) for _ in range(REPEAT)]
    theirs = [measure(["crm_simulate", "-S", "-x", path]) for _ in range(REPEAT)]
    t_ours = statistics.median(r[0] for r in ours)
    t_theirs = statistics.median(r[0] for r in theirs)
    m_ours = statistics.median(r[1] for r in ours)
    m_theirs = statistics.median(r[1] for r in theirs)
    same = summary(ours[0][2]) == summary(theirs[0][2])
    actions = len(summary(theirs[0][2]))
    print("| %s | %d | %.3f s / %.3f s (%.1fx) | %.1f / %.1f MiB (%.2fx) | %s |" % (
        name, actions, t_ours, t_theirs, t_theirs / t_ours, m_ours / 1024, m_theirs / 1024,
        m_ours / m_theirs, "yes" if same else "no"), flush=True)


def main():
    lifeboat = os.environ.get("LIFEBOAT_BIN", os.path.join(ROOT, "target/release/lifeboat"))
    if shutil.which("crm_simulate") is None:
        raise SystemExit("crm_simulate is missing: apt-get install pacemaker-cli-utils")
    work = tempfile.mkdtemp(prefix="crm-bench-")
    log("load average %.2f %.2f %.2f; %d runs each, medians" % (loadavg() + (REPEAT,)))
    print("| input | actions | time: lifeboat / crm_simulate (speed-up) "
          "| peak RSS: lifeboat / crm_simulate (ratio) | same summary |")
    print("| --- | --- | --- | --- | --- |")
    compare("control plane, 3 nodes, fresh", os.path.join(ROOT, "tests/e2e/crm/control-plane.xml"),
            lifeboat)
    for nodes, resources in SIZES:
        base = os.path.join(work, "c%dx%d" % (nodes, resources))
        with open(base + ".xml", "w") as f:
            f.write(cib(nodes, resources))
        log("settling %d nodes x %d resources with crm_simulate" % (nodes, resources))
        up = [a for i in range(1, nodes + 1) for a in ("--node-up", "n%d" % i)]
        quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["crm_simulate", "-x", base + ".xml", "-O", base + "-up.xml"] + up, **quiet)
        subprocess.run(["crm_simulate", "-S", "-x", base + "-up.xml", "-O", base + "-settled.xml"],
                       **quiet)
        subprocess.run(["crm_simulate", "-x", base + "-settled.xml", "--node-fail", "n2",
                        "-O", base + "-failed.xml"], **quiet)
        compare("%d nodes x %d, settled" % (nodes, resources), base + "-settled.xml", lifeboat)
        compare("%d nodes x %d, n2 failed" % (nodes, resources), base + "-failed.xml", lifeboat)
    if os.environ.get("KEEP") == "1":
        log("CIBs kept in %s" % work)
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
