#!/usr/bin/env python3
"""Checks a flame graph that pp-render -f flame wrote, for t0017 and t0018.

usage: flame-check.py SVG [--folded NEW] [--base-folded BASE] [--names]

Always: the SVG is well-formed XML (xml.etree parses it); it holds one
script and one style, both the constant ones (no profile text in them);
the frames are in pre-order with data-e naming the last descendant; every
frame lies inside its caller and beside its preceding sibling, one row
above its caller; its rectangle is where data-x and data-w put it, and at
least one pixel wide.

--folded NEW: the frames are the stacks of NEW (pp-render -f folded of the
profile, or of the new profile of a difference): the width of a frame is
the sum of the stacks it begins, a frame is drawn if and only if that is a
pixel or more, and a caller's remainder frame holds exactly its callees
under a pixel (drawn when they add up to a pixel).

--base-folded BASE: a difference: each frame's colour is red (more red
than green) where the new profile has more than BASE, green where less,
grey (as red as green) where the same, and its tooltip says so; a change
under 1% of the largest may be grey.

--names: print each frame's name (the first line of its tooltip), one a
line, in document order.

Prints "frames N remainders R depth D" and exits 0, or prints what is
wrong and exits 1.
"""
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"


def folded(path):
    prefix = {}
    total = 0
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            stack, _, value = line.rstrip("\n").rpartition(" ")
            value = int(value)
            total += value
            frames = tuple(stack.split(";"))
            for k in range(1, len(frames) + 1):
                prefix[frames[:k]] = prefix.get(frames[:k], 0) + value
    return prefix, total


def main():
    args = sys.argv[1:]
    svg = args.pop(0)
    new = base = None
    names = False
    while args:
        a = args.pop(0)
        if a == "--folded":
            new = folded(args.pop(0))
        elif a == "--base-folded":
            base = folded(args.pop(0))
        elif a == "--names":
            names = True
        else:
            sys.exit("flame-check.py: unknown option " + a)
    errors = []

    def err(msg):
        if len(errors) < 20:
            errors.append(msg)

    root = ET.parse(svg).getroot()
    if root.tag != NS + "svg":
        err("the root element is %s" % root.tag)
    scripts = list(root.iter(NS + "script"))
    styles = list(root.iter(NS + "style"))
    if len(scripts) != 1 or len(styles) != 1:
        err("%d scripts and %d styles" % (len(scripts), len(styles)))
    x0 = float(root.get("data-plot-x"))
    width = float(root.get("data-plot-w"))
    holder = [g for g in root.iter(NS + "g") if g.get("id") == "frames"]
    if len(holder) != 1:
        sys.exit("no frames")
    fr = []
    for g in holder[0]:
        title = g.find(NS + "title").text or ""
        rect = g.find(NS + "rect")
        fill = rect.get("fill")
        fr.append({
            "cls": g.get("class").split(),
            "x": int(g.get("data-x")), "w": int(g.get("data-w")),
            "e": int(g.get("data-e")), "name": title.split("\n")[0],
            "title": title, "rx": float(rect.get("x")),
            "rw": float(rect.get("width")), "y": float(rect.get("y")),
            "rgb": (int(fill[1:3], 16), int(fill[3:5], 16),
                    int(fill[5:7], 16)),
        })
    if names:
        for f in fr:
            print(f["name"])
    if not fr:
        print("frames 0 remainders 0 depth 0")
        return 0 if not errors else report(errors)
    if "root" not in fr[0]["cls"] or fr[0]["x"] != 0:
        err("the first frame is not the root")
    rootw = fr[0]["w"]
    scale = width / rootw
    stack = []
    depth = 0
    for i, f in enumerate(fr):
        if abs(f["rx"] - (x0 + f["x"] * scale)) > 0.006 or \
                abs(f["rw"] - f["w"] * scale) > 0.006:
            err("frame %d (%s) is not drawn where its data puts it"
                % (i, f["name"]))
        if f["rw"] < 0.995:
            err("frame %d (%s) is %.3f px wide" % (i, f["name"], f["rw"]))
        if not i <= f["e"] < len(fr):
            err("frame %d: data-e %d" % (i, f["e"]))
        while stack and stack[-1]["e"] < i:
            stack.pop()
        if i > 0 and not stack:
            err("frame %d (%s) has no caller" % (i, f["name"]))
        f["kids"] = []
        f["path"] = ()
        if stack:
            p = stack[-1]
            if f["e"] > p["e"]:
                err("frame %d ends after its caller" % i)
            if f["x"] < p["x"] or f["x"] + f["w"] > p["x"] + p["w"]:
                err("frame %d (%s) sticks out of its caller" % (i, f["name"]))
            if abs(f["y"] - (p["y"] - 16)) > 0.001:
                err("frame %d (%s) is not a row above its caller"
                    % (i, f["name"]))
            if p["kids"]:
                s = p["kids"][-1]
                if f["x"] < s["x"] + s["w"]:
                    err("frame %d (%s) overlaps its sibling" % (i, f["name"]))
                if "r" not in f["cls"] and f["name"] <= s["name"]:
                    err("frame %d (%s) is not sorted" % (i, f["name"]))
            p["kids"].append(f)
            f["path"] = p["path"] + (f["name"],)
            f["depth"] = p["depth"] + 1
            depth = max(depth, f["depth"])
        else:
            f["depth"] = 0
        if "r" in f["cls"]:
            if f["e"] != i:
                err("remainder %d has callees" % i)
        else:
            stack.append(f)
    rem = [f for f in fr if "r" in f["cls"]]

    if new is not None:
        prefix, total = new
        if rootw != total:
            err("the root is %d wide, the stacks add up to %d"
                % (rootw, total))
        drawn = {f["path"]: f for f in fr[1:] if "r" not in f["cls"]}
        for path, v in prefix.items():
            wide = v > 0 and v * width >= rootw
            if wide and path not in drawn:
                err("%s (%d) is not drawn" % (";".join(path), v))
            elif not wide and path in drawn:
                err("%s (%d) is drawn" % (";".join(path), v))
            elif wide and drawn[path]["w"] != v:
                err("%s is %d wide, not %d"
                    % (";".join(path), drawn[path]["w"], v))
        for path in drawn:
            if path not in prefix:
                err("%s is not a stack" % ";".join(path))
        narrow = {}
        for path, v in prefix.items():
            if 0 < v and v * width < rootw:
                narrow[path[:-1]] = narrow.get(path[:-1], 0) + v
        for f in fr:
            if "r" in f["cls"]:
                continue
            r = [k for k in f["kids"] if "r" in k["cls"]]
            want = narrow.get(f["path"], 0)
            if want * width >= rootw:
                if len(r) != 1 or r[0]["w"] != want:
                    err("%s: the remainder is not %d"
                        % (";".join(f["path"]) or "all", want))
            elif r:
                err("%s has a remainder under a pixel"
                    % (";".join(f["path"]) or "all"))
            if want > 0 and "too narrow to draw" not in f["title"]:
                err("%s: the tooltip does not say what is not drawn"
                    % (";".join(f["path"]) or "all"))

    if base is not None:
        bprefix, _ = base
        nprefix = new[0] if new is not None else {}
        for f in fr:
            if "r" in f["cls"]:
                continue
            if f["path"]:
                f["d"] = nprefix.get(f["path"], 0) - \
                    bprefix.get(f["path"], 0)
            else:
                f["d"] = (new[1] if new is not None else 0) - base[1]
        maxd = max(abs(f.get("d", 0)) for f in fr)
        for f in fr:
            if "r" in f["cls"]:
                continue
            d = f["d"]
            r, g, _ = f["rgb"]
            # a change of under 1% of the largest may round to grey
            faint = abs(d) * 100 < maxd
            line = [ln for ln in f["title"].split("\n")
                    if ln.startswith("change ")]
            if not line:
                err("%s: no change in the tooltip" % f["name"])
                continue
            if d > 0 and not ((r > g or faint and r == g) and
                              line[0].startswith("change +")):
                err("%s grew by %d: colour %s, %s"
                    % (f["name"], d, f["rgb"], line[0]))
            if d < 0 and not ((g > r or faint and r == g) and
                              line[0].startswith("change -")):
                err("%s shrank by %d: colour %s, %s"
                    % (f["name"], d, f["rgb"], line[0]))
            if d == 0 and not (r == g and line[0].startswith("change 0")):
                err("%s did not change: colour %s, %s"
                    % (f["name"], f["rgb"], line[0]))

    if errors:
        return report(errors)
    print("frames %d remainders %d depth %d" % (len(fr), len(rem), depth))
    return 0


def report(errors):
    for e in errors:
        print(e)
    return 1


if __name__ == "__main__":
    sys.exit(main())
