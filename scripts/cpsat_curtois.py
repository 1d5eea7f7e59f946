#!/usr/bin/env python3
"""OR-Tools CP-SAT on a Curtois & Qu instance, for comparison only.

Not part of the product or of `make test`: it is how the CP-SAT figures of
issue 18 can be reproduced on instances the issue does not list (those
`touban bench curtois-gen` writes). The model is the benchmark's own
(shared/bench/curtois/README.md), written directly; the roster it writes is
scored by the product's independent evaluator:

    python3 -m venv /tmp/ortools && /tmp/ortools/bin/pip install ortools
    /tmp/ortools/bin/python scripts/cpsat_curtois.py INSTANCE.txt \
        --time-limit 60 --workers 8 --out INSTANCE.cpsat.roster
    touban bench curtois-eval INSTANCE.txt INSTANCE.cpsat.roster
"""

import argparse
import sys
import time

from ortools.sat.python import cp_model


def parse(path):
    days, shifts, follow, staff, on, off, cover = 0, [], {}, [], [], [], []
    off_days = {}
    section = ""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        sys.exit(f"{path}: {e}")
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            section = line
            continue
        f = [x.strip() for x in line.split(",")]
        try:
            if section == "SECTION_HORIZON":
                days = int(f[0])
            elif section == "SECTION_SHIFTS":
                shifts.append((f[0], int(f[1])))
                follow[f[0]] = [x for x in (f[2] if len(f) > 2 else "").split("|") if x]
            elif section == "SECTION_STAFF":
                caps = dict(p.split("=") for p in f[1].split("|") if p)
                staff.append(
                    dict(
                        id=f[0],
                        cap={k: int(v) for k, v in caps.items()},
                        max_min=int(f[2]),
                        min_min=int(f[3]),
                        max_run=int(f[4]),
                        min_run=int(f[5]),
                        min_off=int(f[6]),
                        max_we=int(f[7]),
                    )
                )
            elif section == "SECTION_DAYS_OFF":
                off_days[f[0]] = [int(x) for x in f[1:] if x]
            elif section in ("SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS"):
                r = (f[0], int(f[1]), f[2], int(f[3]))
                (on if section.endswith("ON_REQUESTS") else off).append(r)
            elif section == "SECTION_COVER":
                cover.append((int(f[0]), f[1], int(f[2]), int(f[3]), int(f[4])))
        except (IndexError, KeyError, ValueError) as e:
            sys.exit(f"{path}: line {n}: {e!r}")
    return days, shifts, follow, staff, off_days, on, off, cover


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    days, shifts, follow, staff, off_days, on, off, cover = parse(a.instance)
    ids = [s for s, _ in shifts]
    mins = dict(shifts)
    m = cp_model.CpModel()
    x = {}
    for e in staff:
        banned = set(off_days.get(e["id"], []))
        for d in range(days):
            for t in ids:
                if e["cap"].get(t, 0) > 0 and d not in banned:
                    x[e["id"], d, t] = m.NewBoolVar("")
    w = {}
    for e in staff:
        i = e["id"]
        for d in range(days):
            here = [x[i, d, t] for t in ids if (i, d, t) in x]
            v = m.NewBoolVar("")
            m.Add(sum(here) == v)
            w[i, d] = v
        for d in range(days - 1):
            for t in ids:
                for u in follow[t]:
                    if (i, d, t) in x and (i, d + 1, u) in x:
                        m.AddBoolOr([x[i, d, t].Not(), x[i, d + 1, u].Not()])
        for t in ids:
            col = [x[i, d, t] for d in range(days) if (i, d, t) in x]
            if col:
                m.Add(sum(col) <= e["cap"].get(t, 0))
        total = sum(mins[t] * x[i, d, t] for d in range(days) for t in ids if (i, d, t) in x)
        m.Add(total <= e["max_min"])
        m.Add(total >= e["min_min"])
        k = e["max_run"]
        for d in range(days - k):
            m.Add(sum(w[i, d + j] for j in range(k + 1)) <= k)
        # Minimum blocks of work and of rest, for blocks strictly inside the
        # horizon: no (off, L on, off) with L below the minimum, and the same
        # with work and rest swapped.
        for need, on_is_work in ((e["min_run"], True), (e["min_off"], False)):
            for length in range(1, need):
                for d in range(1, days - length):
                    block = [w[i, d + j] for j in range(length)]
                    edge = [w[i, d - 1], w[i, d + length]]
                    if on_is_work:
                        m.AddBoolOr(edge + [b.Not() for b in block])
                    else:
                        m.AddBoolOr([b.Not() for b in edge] + block)
        wes = []
        for s in range(5, days, 7):
            k_ = m.NewBoolVar("")
            for d in (s, s + 1):
                if d < days:
                    m.AddImplication(w[i, d], k_)
            wes.append(k_)
        m.Add(sum(wes) <= e["max_we"])
    obj = []
    for i, d, t, weight in on:
        obj.append(weight * (1 - x[i, d, t]) if (i, d, t) in x else weight)
    for i, d, t, weight in off:
        if (i, d, t) in x:
            obj.append(weight * x[i, d, t])
    for d, t, req, under, over in cover:
        n = sum(x[e["id"], d, t] for e in staff if (e["id"], d, t) in x)
        u = m.NewIntVar(0, req, "")
        o = m.NewIntVar(0, len(staff), "")
        m.Add(n - req == o - u)
        obj.append(under * u + over * o)
    m.Minimize(sum(obj))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = a.time_limit
    solver.parameters.num_workers = a.workers
    start = time.time()
    status = solver.Solve(m)
    took = time.time() - start
    name = solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        print(f"{a.instance}\t{name}\t-\t{took:.1f}s")
        return 1
    with open(a.out, "w", encoding="utf-8") as f:
        for e in staff:
            i = e["id"]
            row = []
            for d in range(days):
                here = [t for t in ids if (i, d, t) in x and solver.Value(x[i, d, t])]
                row.append(here[0] if here else "-")
            f.write(i + "\t" + "\t".join(row) + "\n")
    print(
        f"{a.instance}\t{name}\t{solver.ObjectiveValue():.0f}\t"
        f"bound {solver.BestObjectiveBound():.0f}\t{took:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
